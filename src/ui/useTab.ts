import { useEffect, useState } from 'react';

export const TABS = [
  { id: 'model', label: 'Model & playground' },
  { id: 'data', label: 'Data' },
  { id: 'train', label: 'Train' },
  { id: 'evaluate', label: 'Evaluate' },
] as const;
export type TabId = (typeof TABS)[number]['id'];

const fromHash = (): TabId => (TABS.find((t) => `#${t.id}` === window.location.hash)?.id ?? 'model');

/** The open tab, kept in the URL hash so a reload (or a shared link) opens the same one. */
export function useTab(): [TabId, (t: TabId) => void] {
  const [tab, setTab] = useState<TabId>(fromHash);
  useEffect(() => {
    const onHash = () => setTab(fromHash());
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  return [
    tab,
    (t) => {
      window.history.replaceState(null, '', `${window.location.pathname}${window.location.search}#${t}`);
      setTab(t);
    },
  ];
}
