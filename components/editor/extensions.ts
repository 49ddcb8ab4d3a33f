// The CodeMirror setup shared by the editor and the diff views: Nix highlighting, line
// numbers, search, bracket matching, folding, and a light or dark theme.
import { autocompletion, closeBrackets, closeBracketsKeymap } from '@codemirror/autocomplete';
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { bracketMatching, defaultHighlightStyle, foldGutter, foldKeymap, indentOnInput, syntaxHighlighting } from '@codemirror/language';
import { lintGutter, lintKeymap } from '@codemirror/lint';
import { highlightSelectionMatches, search, searchKeymap } from '@codemirror/search';
import { EditorState, type Extension } from '@codemirror/state';
import { oneDark } from '@codemirror/theme-one-dark';
import { drawSelection, EditorView, highlightActiveLine, highlightActiveLineGutter, highlightSpecialChars, keymap, lineNumbers } from '@codemirror/view';
import { nix } from '@replit/codemirror-lang-nix';
import { pageNonce } from '@/lib/http/page-nonce';

const lightTheme = EditorView.theme({
  '&': { backgroundColor: 'white', color: '#0f172a' },
  '.cm-gutters': { backgroundColor: '#f8fafc', color: '#94a3b8', borderRight: '1px solid #e2e8f0' },
  '.cm-activeLine': { backgroundColor: '#f1f5f9' },
  '.cm-activeLineGutter': { backgroundColor: '#e2e8f0' },
});

const base = EditorView.theme({
  '&': { fontSize: '13px', height: '100%' },
  '.cm-scroller': { fontFamily: 'var(--font-mono)', lineHeight: '1.55' },
  '&.cm-focused': { outline: 'none' },
});

export function nixExtensions(opts: { dark: boolean; readOnly?: boolean }): Extension[] {
  return [
    lineNumbers(),
    highlightActiveLineGutter(),
    highlightSpecialChars(),
    history(),
    foldGutter(),
    drawSelection(),
    indentOnInput(),
    bracketMatching(),
    closeBrackets(),
    autocompletion(),
    highlightActiveLine(),
    highlightSelectionMatches(),
    search({ top: true }),
    lintGutter(),
    keymap.of([indentWithTab, ...closeBracketsKeymap, ...defaultKeymap, ...searchKeymap, ...historyKeymap, ...foldKeymap, ...lintKeymap]),
    nix(),
    EditorState.tabSize.of(2),
    base,
    opts.dark ? oneDark : [lightTheme, syntaxHighlighting(defaultHighlightStyle, { fallback: true })],
    // CodeMirror adds its styles as a <style> element: it needs the page's CSP nonce.
    EditorView.cspNonce.of(pageNonce()),
    EditorState.readOnly.of(opts.readOnly ?? false),
    EditorView.editable.of(!opts.readOnly),
  ];
}
