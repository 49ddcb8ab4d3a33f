// PostgreSQL error codes we turn into user-facing answers. drizzle wraps the driver's
// error, so look at the cause too.
function pgCode(error: unknown): string | undefined {
  for (let e = error, depth = 0; e && typeof e === 'object' && depth < 3; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

export const isUniqueViolation = (error: unknown) => pgCode(error) === '23505';

// Connection-level failures: the database is down, restarting or unreachable, not the
// request's fault. postgres.js names its own (CONNECTION_*, CONNECT_TIMEOUT), the socket
// gives Node's errno codes, and a server shutting down or starting answers class 08 or 57P.
const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT']);

/** True when the error says the database cannot be reached right now (worth retrying shortly). */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let e = error, depth = 0; e && typeof e === 'object' && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code !== 'string') continue;
    if (UNAVAILABLE_CODES.has(code) || /^(08[0-9A-Z]{3}|57P0[1-3])$/.test(code)) return true;
  }
  return false;
}
