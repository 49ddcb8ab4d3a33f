// Syntax check of Nix text with the real parser (`nix-instantiate --parse`), so the
// editor shows exactly what a build would say, at the same line and column.
import { AppError } from '@/lib/api/errors';
import { runNix } from '@/lib/nix/run';

export type SyntaxError = { line: number; column: number; message: string };

// eslint-disable-next-line no-control-regex -- matching the terminal's escape byte is the point
const ANSI = /\u001b\[[0-9;]*m/g;

export function parseNixError(stderr: string): SyntaxError {
  const text = stderr.replace(ANSI, '');
  const position = /at (?:«stdin»|\(string\)|\/dev\/stdin|«string»):(\d+):(\d+)/.exec(text);
  const first = /error:\s*(.+)/.exec(text)?.[1]?.trim() ?? text.trim().split('\n')[0] ?? 'syntax error';
  // Nix 2.3 put the position on the same line: "…, at (string):3:1".
  const message = first.replace(/,? at (?:«stdin»|\(string\)|\/dev\/stdin|«string»):\d+:\d+:?$/, '');
  return { line: Number(position?.[1] ?? 1), column: Number(position?.[2] ?? 1), message };
}

export async function checkNixSyntax(text: string): Promise<SyntaxError | null> {
  const result = await runNix('nix-instantiate', ['--parse', '-'], { input: text, timeoutMs: 20_000 });
  if (result.timedOut) throw new AppError('unprocessable', 'The Nix parser took too long on this text');
  return result.code === 0 ? null : parseNixError(result.stderr);
}

/** Throws the documented 422 (details: line, column) when the text does not parse. */
export async function assertNixSyntax(text: string, what = 'module') {
  const error = await checkNixSyntax(text);
  if (error) {
    throw new AppError('unprocessable', `Nix syntax error in the ${what} at line ${error.line}, column ${error.column}: ${error.message}`, error);
  }
}
