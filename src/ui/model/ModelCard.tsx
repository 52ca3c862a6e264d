/** What was loaded: size, shape, tokenizer, and whether it came from the cache. */
import { selectModelInfo, useStudio } from '../../state';
import { formatBytes, formatCount, formatRatio } from '../format';
import { Alert } from '../parts/Alert';

const SOURCE = { hub: 'Hugging Face Hub', files: 'local files', random: 'random weights (made in the browser)' } as const;

export function ModelCard() {
  const info = useStudio(selectModelInfo);
  if (!info) return null;
  const c = info.config;
  const rows: [string, string][] = [
    ['Parameters', formatCount(info.paramCount)],
    ['On device (float32)', formatBytes(info.deviceBytes)],
    ['File size', info.fileBytes > 0 ? formatBytes(info.fileBytes) : 'none (random weights)'],
    ['Layers', String(c.numLayers)],
    ['Hidden size', String(c.hiddenSize)],
    ['Heads', String(c.numHeads)],
    ['Vocab', String(c.vocabSize)],
    ['rotary_pct', formatRatio(c.rotaryPct)],
    ['Parallel residual', c.useParallelResidual ? 'yes' : 'no'],
    ['Tokenizer', info.tokenizer === 'model' ? "the model's tokenizer.json" : 'bundled Pythia tokenizer'],
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
