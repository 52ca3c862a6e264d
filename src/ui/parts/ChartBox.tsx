/**
 * A chart's box that draws the chart only while the box has a size. Every tab stays mounted
 * (App.tsx), so a chart in a hidden tab measures 0×0, and recharts' ResponsiveContainer warns on
 * each render (dozens of warnings while training); the chart appears when its tab is shown.
 */
import { useEffect, useRef, useState, type ReactElement } from 'react';
import { ResponsiveContainer } from 'recharts';

export function ChartBox({ className, children }: { className: string; children: ReactElement }) {
  const box = useRef<HTMLDivElement>(null);
  const [sized, setSized] = useState(false);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const observer = new ResizeObserver(([entry]) => setSized(entry.contentRect.width > 0 && entry.contentRect.height > 0));
    observer.observe(el);
    return () => observer.disconnect();
  }, []);
  return (
    <div ref={box} className={className} aria-hidden="true">
      {sized && (
        <ResponsiveContainer width="100%" height="100%">
          {children}
        </ResponsiveContainer>
      )}
    </div>
  );
}
