import { useEffect, useRef } from 'preact/hooks';

export interface KeyboardActions {
  readonly next: () => void;
  readonly previous: () => void;
  readonly open: () => void;
  readonly remove: () => void;
  readonly focusSearch: () => void;
  readonly back: () => void;
  /** A page's own letters (the queue's r, h, u), looked up after the common keys. */
  readonly more?: Readonly<Record<string, () => void>>;
}

/** Gmail-style keys: j/k move, Enter opens, Delete or # deletes, / searches, Escape goes back. */
export function useKeyboard(actions: KeyboardActions): void {
  const latest = useRef(actions);
  latest.current = actions;
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      const target = event.target as HTMLElement | null;
      if (
        target !== null &&
        (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName))
      )
        return;
      const action =
        (
          {
            j: latest.current.next,
            ArrowDown: latest.current.next,
            k: latest.current.previous,
            ArrowUp: latest.current.previous,
            Enter: latest.current.open,
            Delete: latest.current.remove,
            '#': latest.current.remove,
            '/': latest.current.focusSearch,
            Escape: latest.current.back,
          } as Record<string, (() => void) | undefined>
        )[event.key] ?? latest.current.more?.[event.key];
      if (action === undefined) return;
      event.preventDefault();
      action();
    };
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  }, []);
}
