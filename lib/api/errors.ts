// Typed application errors, mapped to HTTP status in one place (DESIGN.md §13:
// errors are {error: {code, message, details?}}).
import type { z } from 'zod';

export const ERROR_STATUS = {
  invalid_json: 400,
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  unprocessable: 422,
  rate_limited: 429,
  internal: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'AppError';
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }

  toJSON() {
    return { error: { code: this.code, message: this.message, ...(this.details === undefined ? {} : { details: this.details }) } };
  }
}

/** A zod failure as a 400 whose details say which field is wrong and why. */
export function validationError(error: z.ZodError, what = 'request'): AppError {
  const issues = error.issues.map((issue) => ({
    path: issue.path.join('.'),
    message: issue.message,
  }));
  const first = issues[0];
  const where = first?.path ? ` at "${first.path}"` : '';
  return new AppError('invalid_request', `Invalid ${what}${where}: ${first?.message ?? 'malformed'}`, { issues });
}

export function errorResponse(error: unknown): Response {
  if (error instanceof AppError) {
    const headers: Record<string, string> = {};
    if (error.code === 'unauthorized') headers['www-authenticate'] = 'Bearer realm="flotilla"';
    return Response.json(error.toJSON(), { status: error.status, headers });
  }
  // Never an empty 500: the cause goes to the log, the caller gets a stable shape.
  console.error('[api] unexpected error', error);
  return Response.json(new AppError('internal', 'Internal server error').toJSON(), { status: 500 });
}
