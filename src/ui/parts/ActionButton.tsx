import type { ButtonHTMLAttributes } from 'react';

interface Props extends ButtonHTMLAttributes<HTMLButtonElement> {
  /** Why the button cannot be used now; null when it can. Shown as the tooltip. */
  blocker: string | null;
  variant?: 'primary' | 'secondary' | 'danger';
}

/** A button that is disabled for a stated reason instead of silently. */
export function ActionButton({ blocker, variant = 'secondary', className, title, ...rest }: Props) {
  return (
    <button
      type="button"
      {...rest}
      className={['btn', `btn-${variant}`, className].filter(Boolean).join(' ')}
      disabled={blocker !== null}
      title={blocker ?? title}
    />
  );
}
