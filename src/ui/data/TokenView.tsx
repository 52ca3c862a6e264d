/** One example as the model sees it: every token as a chip, marked by whether it is learned, read or cut. */
import { useMemo, useState, type ReactNode } from 'react';
import type { TokenView as TokenViewData, ViewToken } from '../../protocol/dataProtocol';
import { formatInt, plural } from '../format';
import { breaksLine, cutPosition, summarize, tokenState, visibleText, type CutPosition, type TokenState } from './tokenDisplay';
import './dataViews.css';

const STATE_HINT: Record<TokenState, string> = {
  trained: 'carries loss (learned)',
  masked: 'prompt: read, not learned',
  dropped: 'cut by truncation',
};

export function TokenView({ view }: { view: TokenViewData }) {
  const [showIds, setShowIds] = useState(false);
  const counts = useMemo(() => summarize(view), [view]);
  // An example can have thousands of tokens: build the chips once per view, and let the ids
  // toggle work through a class so it does not rebuild them.
  const chips = useMemo(() => renderChips(view), [view]);
  return (
    <div className="tv">
      <p className="tv-summary" data-testid="token-summary" data-trained={counts.trained} data-masked={counts.masked} data-dropped={counts.dropped}>
        {plural(view.fullLength, 'token')} · {formatInt(counts.trained)} carry loss · {formatInt(counts.masked)} masked · {formatInt(view.truncated)} cut by truncation
      </p>
      <TokenLegend />
      <label className="checkbox tv-ids-toggle">
        <input type="checkbox" data-testid="show-token-ids" checked={showIds} onChange={(e) => setShowIds(e.target.checked)} />
        Show ids
      </label>
      <div className={showIds ? 'tv-tokens tv-show-ids' : 'tv-tokens'} data-testid="token-view" role="group" aria-label="Tokens" tabIndex={0}>
        {chips}
      </div>
    </div>
  );
}

function TokenLegend() {
  return (
    <ul className="tv-legend" aria-label="Legend">
      <li>
        <span className="tv-tok tv-trained">answer</span> {STATE_HINT.trained}
      </li>
      <li>
        <span className="tv-tok tv-masked">prompt</span> {STATE_HINT.masked}
      </li>
      <li>
        <span className="tv-tok tv-trained tv-special">&lt;|endoftext|&gt;</span> special token
      </li>
      <li>
        <span className="tv-tok tv-dropped">cut</span> {STATE_HINT.dropped}
      </li>
    </ul>
  );
}

function renderChips(view: TokenViewData): ReactNode[] {
  const cut = cutPosition(view);
  const out: ReactNode[] = [];
  view.tokens.forEach((t, i) => {
    if (cut?.index === i) out.push(cutMarker(cut));
    out.push(chip(t, i));
    if (breaksLine(t.text)) out.push(<br key={`br${i}`} />);
  });
  if (cut?.index === view.tokens.length) out.push(cutMarker(cut));
  return out;
}

// Plain elements, not components: thousands of chips must not each carry component overhead.
function chip(t: ViewToken, i: number): ReactNode {
  const state = tokenState(t);
  return (
    <span
      key={i}
      className={t.special ? `tv-tok tv-${state} tv-special` : `tv-tok tv-${state}`}
      data-testid="token"
      data-state={state}
      data-special={t.special ? 'true' : undefined}
      title={`#${i} id ${t.id} "${t.piece}" · ${STATE_HINT[state]}${t.special ? ' · special token' : ''}`}
    >
      {visibleText(t.text, t.piece)}
      <span className="tv-id">{t.id}</span>
    </span>
  );
}

function cutMarker(cut: CutPosition): ReactNode {
  return (
    <span key="cut" className="tv-cut" data-testid="truncation-marker" data-side={cut.side} data-count={cut.count}>
      ✂ truncation: {plural(cut.count, 'token')} dropped {cut.side} this point
    </span>
  );
}
