import { describe, expect, it } from 'vitest';
import { RpcClient, type WorkerPort } from './rpcClient';

type Req = { echo: { params: string; result: string } };

/** A port that never answers, and can crash. */
function silentPort() {
  const sent: unknown[] = [];
  const port: WorkerPort = { onmessage: null, onerror: null, postMessage: (m: unknown) => void sent.push(m), terminate: () => {} } as WorkerPort;
  return { port, sent };
}

describe('RpcClient', () => {
  it('a crashed worker fails its pending requests and every later one at once, saying so', async () => {
    const { port, sent } = silentPort();
    const rpc = new RpcClient<Req, { type: 'x' }>(port, 1, 'the data worker');
    const pending = rpc.request('echo', 'a');
    port.onerror!({ message: 'boom' } as ErrorEvent);
    await expect(pending).rejects.toThrow('the data worker crashed (boom): reload the page');
    await expect(rpc.request('echo', 'b')).rejects.toThrow('the data worker crashed (boom)');
    expect(sent).toHaveLength(1); // nothing more was posted to the dead worker
  });

  it('after terminate, requests fail with the reason', async () => {
    const { port } = silentPort();
    const rpc = new RpcClient<Req, { type: 'x' }>(port, 1, 'the compute worker');
    rpc.terminate('the engine was restarted');
    await expect(rpc.request('echo', 'a')).rejects.toThrow('the engine was restarted');
  });
});
