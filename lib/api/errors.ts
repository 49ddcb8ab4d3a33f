// Typed application errors, mapped to HTTP status in one place (DESIGN.md §13:
// errors are {error: {code, message, details?}}).
import type { z } from 'zod';
import { isDatabaseUnavailable } from '@/lib/db/errors';

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
  unavailable: 503,
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

const DATABASE_RETRY_SECONDS = 5;

export const databaseUnavailable = () => new AppError('unavailable', 'The database is unavailable right now; try again in a few seconds');

/** Every 429 says when to come back: the limiter's `details.retryAfterSeconds`, else a minute. */
function retryAfterSeconds(details: unknown): number {
  const seconds = typeof details === 'object' && details !== null && 'retryAfterSeconds' in details ? details.retryAfterSeconds : undefined;
  return typeof seconds === 'number' && Number.isInteger(seconds) && seconds > 0 ? seconds : 60;
}

export function errorResponse(error: unknown): Response {
  if (error instanceof AppError) {
    const headers: Record<string, string> = {};
    if (error.code === 'unauthorized') headers['www-authenticate'] = 'Bearer realm="flotilla"';
    if (error.code === 'rate_limited') headers['retry-after'] = String(retryAfterSeconds(error.details));
    if (error.code === 'unavailable') headers['retry-after'] = String(DATABASE_RETRY_SECONDS);
    return Response.json(error.toJSON(), { status: error.status, headers });
  }
  // The database restarting is not a server bug: a 503 clients may retry, not a 500 storm.
  if (isDatabaseUnavailable(error)) {
    console.error('[api] database unavailable', safeErrorForLog(error));
    return errorResponse(databaseUnavailable());
  }
  // Never an empty 500: the cause goes to the log (without SQL parameters), the caller gets a stable shape.
  console.error('[api] unexpected error', safeErrorForLog(error));
  return Response.json(new AppError('internal', 'Internal server error').toJSON(), { status: 500 });
}

/** Fields of a PostgreSQL error that name things (a constraint, a table), never values. */
const PG_NAME_FIELDS = ['severity', 'schema_name', 'table_name', 'column_name', 'constraint_name', 'routine'] as const;

/**
 * An error as a log line that never carries data: drizzle's "Failed query" message lists
 * the query's parameters, and postgres.js errors keep `parameters`, `args` and a `detail`
 * that can quote row values (a password hash, a token hash, a request body). What stays:
 * name, message (for drizzle's, the SQL text with its placeholders), code, the names of
 * the constraint/table/column, the stack frames, and the same for each cause.
 */
export function safeErrorForLog(error: unknown, depth = 0): string {
  if (!(error instanceof Error)) return typeof error === 'string' ? error : `non-error thrown (${typeof error})`;
  const record = error as Error & Record<string, unknown>;
  // drizzle-orm's DrizzleQueryError: "Failed query: <sql>\nparams: <values>".
  const message = typeof record.query === 'string' && 'params' in record ? `Failed query: ${record.query}` : error.message.split('\nparams: ')[0];
  const facts = [
    typeof record.code === 'string' || typeof record.code === 'number' ? `code=${record.code}` : null,
    ...PG_NAME_FIELDS.map((field) => (typeof record[field] === 'string' ? `${field}=${record[field]}` : null)),
  ].filter(Boolean);
  // Frames only: the stack's first lines repeat the message, parameters included.
  const frames = (error.stack ?? '')
    .split('\n')
    .filter((line) => /^\s+at /.test(line))
    .join('\n');
  const head = `${error.name}: ${message}${facts.length ? ` [${facts.join(' ')}]` : ''}`;
  const cause = error.cause !== undefined && depth < 3 ? `\ncaused by: ${safeErrorForLog(error.cause, depth + 1)}` : '';
  return `${head}${frames ? `\n${frames}` : ''}${cause}`;
}
