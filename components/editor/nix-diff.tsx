'use client';

// Side-by-side comparison of two Nix texts (CodeMirror's merge view). The right side
// can be made editable, which the conflict view uses to let people merge by hand.
import { MergeView } from '@codemirror/merge';
import { EditorView } from '@codemirror/view';
import { useTheme } from 'next-themes';
import { useEffect, useRef } from 'react';
import { nixExtensions } from './extensions';

type Props = {
  original: string;
  modified: string;
  originalLabel: string;
  modifiedLabel: string;
  editable?: boolean;
  onModifiedChange?: (value: string) => void;
};

export function NixDiff({ original, modified, originalLabel, modifiedLabel, editable, onModifiedChange }: Props) {
  const host = useRef<HTMLDivElement>(null);
  const onChange = useRef(onModifiedChange);
  // The newest callback, for the listener the merge view was made with (refs are written after render, not during it).
  useEffect(() => {
    onChange.current = onModifiedChange;
  });
  const { resolvedTheme } = useTheme();
  const dark = resolvedTheme === 'dark';

  useEffect(() => {
    if (!host.current) return;
    const view = new MergeView({
      parent: host.current,
      a: { doc: original, extensions: nixExtensions({ dark, readOnly: true }) },
      b: {
        doc: modified,
        extensions: [
          nixExtensions({ dark, readOnly: !editable }),
          EditorView.updateListener.of((u) => {
            if (u.docChanged) onChange.current?.(u.state.doc.toString());
          }),
        ],
      },
      highlightChanges: true,
      gutter: true,
      revertControls: editable ? 'a-to-b' : undefined,
      collapseUnchanged: editable ? undefined : { margin: 3, minSize: 6 },
    });
    return () => view.destroy();
  }, [original, modified, dark, editable]);

  return (
    <div data-testid="nix-diff" className="overflow-hidden rounded-md ring-1 ring-slate-300 dark:ring-slate-700">
      <div className="grid grid-cols-2 border-b border-slate-200 bg-slate-50 text-xs font-medium text-slate-600 dark:border-slate-800 dark:bg-slate-900 dark:text-slate-300">
        <div className="px-3 py-1.5">{originalLabel}</div>
        <div className="border-l border-slate-200 px-3 py-1.5 dark:border-slate-800">{modifiedLabel}</div>
      </div>
      <div ref={host} className="max-h-[36rem] overflow-auto text-[13px]" />
    </div>
  );
}
