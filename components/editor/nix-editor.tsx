'use client';

// A CodeMirror 6 editor for Nix text. Diagnostics (from `nix-instantiate --parse`)
// are shown at their line and column, and the first one is scrolled into view.
import { setDiagnostics } from '@codemirror/lint';
import { Compartment, EditorState } from '@codemirror/state';
import { EditorView } from '@codemirror/view';
import { useTheme } from 'next-themes';
import { useEffect, useRef } from 'react';
import { nixExtensions } from './extensions';

export type Diagnostic = { line: number; column: number; message: string };

type Props = {
  value: string;
  onChange?: (value: string) => void;
  diagnostics?: Diagnostic[];
  readOnly?: boolean;
  label: string;
  className?: string;
};

function toOffset(state: EditorState, d: Diagnostic) {
  const line = state.doc.line(Math.min(Math.max(d.line, 1), state.doc.lines));
  return Math.min(line.from + Math.max(d.column - 1, 0), line.to);
}

export function NixEditor({ value, onChange, diagnostics, readOnly, label, className }: Props) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const theme = useRef(new Compartment());
  const onChangeRef = useRef(onChange);
  // The newest callback, for the listener the view was made with (refs are written after render, not during it).
  useEffect(() => {
    onChangeRef.current = onChange;
  });
  const { resolvedTheme } = useTheme();
  const dark = resolvedTheme === 'dark';

  useEffect(() => {
    if (!host.current) return;
    const v = new EditorView({
      parent: host.current,
      state: EditorState.create({
        doc: value,
        extensions: [
          theme.current.of(nixExtensions({ dark, readOnly })),
          // Long lines wrap: unwrapped, they ran past the box and every edit at their end
          // scrolled the whole text sideways, line numbers included.
          EditorView.lineWrapping,
          EditorView.contentAttributes.of({ 'aria-label': label }),
          EditorView.updateListener.of((u) => {
            if (u.docChanged) onChangeRef.current?.(u.state.doc.toString());
          }),
        ],
      }),
    });
    view.current = v;
    return () => {
      v.destroy();
      view.current = null;
    };
    // The view is created once; later prop changes are applied by the effects below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  useEffect(() => {
    view.current?.dispatch({ effects: theme.current.reconfigure(nixExtensions({ dark, readOnly })) });
  }, [dark, readOnly]);

  // Outside changes (a revert, a reload) replace the text; the user's own typing is already there.
  useEffect(() => {
    const v = view.current;
    if (v && v.state.doc.toString() !== value) v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: value } });
  }, [value]);

  useEffect(() => {
    const v = view.current;
    if (!v) return;
    const list = (diagnostics ?? []).map((d) => {
      const from = toOffset(v.state, d);
      return { from, to: Math.min(from + 1, v.state.doc.length), severity: 'error' as const, message: d.message };
    });
    v.dispatch(setDiagnostics(v.state, list));
    const first = list[0];
    if (first) v.dispatch({ selection: { anchor: first.from }, effects: EditorView.scrollIntoView(first.from, { y: 'center' }) });
  }, [diagnostics]);

  return (
    <div
      ref={host}
      data-testid="nix-editor"
      className={`overflow-hidden rounded-md ring-1 ring-slate-300 dark:ring-slate-700 [&_.cm-editor]:h-full ${className ?? 'h-[28rem]'}`}
    />
  );
}
