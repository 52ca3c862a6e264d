/** The data worker's service on the test's thread, with the real Pythia tokenizer. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { localPort } from '../client/inProcess';
import { RpcClient } from '../client/rpcClient';
import { DataService } from '../engine/dataService';
import { tokenizerFromJson, type Tokenizer } from '../data/tokenizer';
import { DATA_PROTOCOL_VERSION, type DataEvent, type DataRequests } from '../protocol/dataProtocol';

export const repoFile = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));

let tokenizer: Tokenizer | null = null;
export function pythiaTokenizer(): Tokenizer {
  tokenizer ??= tokenizerFromJson(JSON.parse(readFileSync(repoFile('public/tokenizers/pythia/tokenizer.json'), 'utf8')));
  return tokenizer;
}

export function inProcessDataClient(): RpcClient<DataRequests, DataEvent> {
  const service = new DataService(async () => pythiaTokenizer());
  return new RpcClient(
    localPort<DataRequests, DataEvent>(() => (kind, params, ctx) => service.handle(kind, params, ctx), DATA_PROTOCOL_VERSION, { serial: false }),
    DATA_PROTOCOL_VERSION,
    'the data worker',
  );
}
