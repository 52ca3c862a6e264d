import type { Segment } from '../../data/types';

/** An example's text with the prompt and the trained answer told apart. */
export function RenderedText({ segments }: { segments: Segment[] }) {
  return (
    <pre className="rendered" data-testid="rendered-text">
      {segments.map((s, i) => (
        <span key={i} className={s.train ? 'seg-train' : 'seg-prompt'} data-train={s.train}>
          {s.text}
        </span>
      ))}
    </pre>
  );
}
