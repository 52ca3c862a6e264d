import type { ReactNode } from 'react';

interface Props {
  title: string;
  children: ReactNode;
  testId?: string;
  tone?: 'error' | 'warning';
}

/** A visible, announced message; error texts come from the engine and say what to do next. */
export function Alert({ title, children, testId, tone = 'error' }: Props) {
  return (
    <div className={`alert alert-${tone}`} role="alert" data-testid={testId}>
      <strong className="alert-title">{title}</strong>
      <div className="alert-body">{children}</div>
    </div>
  );
}
