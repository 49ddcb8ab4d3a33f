// What a failed save of Nix text means for the editor: a syntax error to mark at its
// line, a conflict to show side by side, or a message.
import { z } from 'zod';
import type { Diagnostic } from './nix-editor';

const ZDiagnostic = z.object({ line: z.number(), column: z.number(), message: z.string() });

type SaveError = { code: string; message: string; fields?: Record<string, string>; details?: unknown };

export function describeSaveError(error: SaveError): { message: string; diagnostic?: Diagnostic; conflict?: unknown } {
  const diagnostic = error.code === 'unprocessable' ? ZDiagnostic.safeParse(error.details) : undefined;
  if (diagnostic?.success) {
    const d = diagnostic.data;
    return { message: `Not saved: line ${d.line}, column ${d.column}: ${d.message}`, diagnostic: d };
  }
  if (error.code === 'conflict' && error.details) return { message: error.message, conflict: error.details };
  if (error.fields) return { message: Object.entries(error.fields).map(([k, v]) => `${k}: ${v}`).join('; ') };
  return { message: error.message };
}
