/** The sample prompt and each sample step's answer, newest first, to watch the answers change. */
import type { RunRecord } from '../../state';

export function RunSamples({ run }: { run: RunRecord }) {
  const samples = [...run.samples].reverse();
  const prompt = run.samplePrompt || run.config.samplePrompt;
  return (
    <section className="run-samples" data-testid="run-samples" data-count={samples.length} aria-labelledby="run-samples-heading">
      <h3 id="run-samples-heading">Samples</h3>
      {prompt ? (
        <pre className="output sample-prompt" data-testid="run-sample-prompt">
          {prompt}
        </pre>
      ) : (
        <p className="hint">The first test example’s prompt, once the first sample is taken.</p>
      )}
      {samples.length === 0 ? (
        <p className="hint">{run.config.sampleEvery > 0 ? `An answer every ${run.config.sampleEvery} steps shows here.` : 'Sampling is off for this run (sample every 0).'}</p>
      ) : (
        <ol className="sample-list" reversed>
          {samples.map((s, i) => (
            <li key={samples.length - i} data-testid="run-sample">
              <span className="sample-step">step {s.step}</span>
              <pre className="output sample-text">{s.text || <span className="muted">(empty answer)</span>}</pre>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
