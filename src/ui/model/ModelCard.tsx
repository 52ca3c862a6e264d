/** What was loaded: size, shape, tokenizer, and whether it came from the cache. */
import { selectModelInfo, useStudio } from '../../state';
import { FAMILY_NAMES } from '../../state/trainOptions';
import { formatBytes, formatCount, formatRatio } from '../format';
import { Alert } from '../parts/Alert';

const SOURCE = { hub: 'Hugging Face Hub', files: 'local files', random: 'random weights (made in the browser)' } as const;

export function ModelCard() {
  const info = useStudio(selectModelInfo);
  if (!info) return null;
  const c = info.config;
  const rows: [string, string][] = [
    ['Family', `${FAMILY_NAMES[c.modelType]} (model_type "${c.modelType}")`],
    ['Parameters', formatCount(info.paramCount)],
    ['On device (float32)', formatBytes(info.deviceBytes)],
    ['File size', info.fileBytes > 0 ? formatBytes(info.fileBytes) : 'none (random weights)'],
    ['Layers', String(c.numLayers)],
    ['Hidden size', String(c.hiddenSize)],
    ['Heads', c.numKvHeads === c.numHeads ? String(c.numHeads) : `${c.numHeads} query, ${c.numKvHeads} key/value (grouped-query)`],
    ['Vocab', String(c.vocabSize)],
    ['Positions', c.rotaryPct === 0 ? 'learned' : c.rotaryPct === 1 ? 'rotary, over the whole head' : `rotary, rotary_pct ${formatRatio(c.rotaryPct)}`],
    ...(c.modelType === 'gpt_neox' ? [['Parallel residual', c.useParallelResidual ? 'yes' : 'no'] as [string, string]] : []),
    ['LM head', c.tieWordEmbeddings ? 'tied to the embedding' : 'its own'],
    ['Tokenizer', `${info.tokenizer === 'model' ? "the model's tokenizer.json" : 'bundled Pythia tokenizer'}${info.chatTemplate ? ', with a chat template' : ''}`],
    ['Source', SOURCE[info.source]],
  ];
  return (
    <article className="model-card" data-testid="model-info" data-param-count={info.paramCount}>
      <header>
        <h3 data-testid="model-label">{info.label}</h3>
        {info.fromCache && (
          <span className="badge badge-cache" data-testid="model-from-cache">
            loaded from cache
          </span>
        )}
      </header>
      <dl className="kv">
        {rows.map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd>{v}</dd>
          </div>
        ))}
      </dl>
      {info.warnings.length > 0 && (
        <Alert title="Loaded, with a warning" tone="warning" testId="model-warnings">
          {info.warnings.map((w) => (
            <p key={w}>{w}</p>
          ))}
        </Alert>
      )}
    </article>
  );
}
