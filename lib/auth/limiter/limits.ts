// What happens after failed authentications (docs/decisions/0019-auth-failure-limits.md).
//
// Secrets (API tokens, host credentials, enroll tokens, cache credentials) are 32
// random bytes: guessing one is hopeless, so the limit is there to cut noise and to
// name the address in the log. A valid secret is always accepted, whatever its address
// did before; only failures are counted (nothing is read on success), and past the
// limit a failure is answered 429 with Retry-After instead of 401.
//
// Passwords can be guessed, so they are gated before they are checked:
// - per client address, across e-mails (password spraying): past the limit no password
//   from that address is checked until its window ends;
// - per account, a growing delay instead of a lockout: once an account has more than a
//   few failures, an address that has failed for it waits between tries, exponentially
//   in the account's failures and capped. An address that has not failed for the account
//   (usually its owner's) is not delayed, so a stranger's guesses never lock the owner out.
import { createHash } from 'node:crypto';
import { AppError } from '@/lib/api/errors';
import type { Db } from '@/lib/db/client';
import { addressKey } from './client-address';
import { createFailureCounts } from './failure-counts';

/** Invalid secrets per client address: past `max` in the window, failures get 429. */
export const SECRET_LIMIT = { max: 10, windowSeconds: 5 * 60 };
/** Failed sign-ins per client address across all e-mails: past `max`, no password is checked. */
export const SIGN_IN_ADDRESS_LIMIT = { max: 20, windowSeconds: 15 * 60 };
/** Failed sign-ins per account: after `free`, addresses that failed wait 1 s, 2 s, 4 s … up to `capSeconds`. */
export const ACCOUNT_DELAY = { free: 3, baseSeconds: 1, capSeconds: 30, windowSeconds: 60 * 60 };

export type Limited = { retryAfterSeconds: number };
export type PasswordOutcome = { ok: true } | { ok: false; limited: Limited | null };
export type AuthLimiter = ReturnType<typeof createAuthLimiter>;

/** How long an address that has failed for an account waits after its last try. */
export function accountDelaySeconds(accountFailures: number): number {
  if (accountFailures <= ACCOUNT_DELAY.free) return 0;
  return Math.min(ACCOUNT_DELAY.baseSeconds * 2 ** (accountFailures - ACCOUNT_DELAY.free - 1), ACCOUNT_DELAY.capSeconds);
}

const secondsUntil = (when: Date, now: Date) => Math.max(1, Math.ceil((when.getTime() - now.getTime()) / 1000));
const minutes = (seconds: number) => `${Math.round(seconds / 60)} min`;
// E-mails are not secrets, but the table needs no copy of them; the log line names them.
const accountId = (email: string) => createHash('sha256').update(email).digest('hex').slice(0, 32);

/** The 429 of an API route, with Retry-After (lib/api/errors.ts reads `retryAfterSeconds`). */
export function rateLimited(message: string, limited: Limited): AppError {
  return new AppError('rate_limited', message, { retryAfterSeconds: limited.retryAfterSeconds });
}

/** `database` and `warn` are for tests; the server uses the shared instance, authLimiter(). */
export function createAuthLimiter(opts: { database?: Db; warn?: (line: string) => void } = {}) {
  const counts = createFailureCounts(opts.database);
  const warn = opts.warn ?? ((line: string) => console.warn(`[auth] ${line}`));
  const signInKeys = (email: string, address: string) => {
    const where = addressKey(address);
    const account = accountId(email);
    return { address: `sign-in:${where}`, account: `account:${account}`, pair: `account:${account}@${where}` };
  };

  return {
    /** A presented secret was wrong: count it against the address; null while under the limit. */
    async secretFailed(address: string, what: string): Promise<Limited | null> {
      const key = `secret:${addressKey(address)}`;
      const row = (await counts.add([{ key, windowSeconds: SECRET_LIMIT.windowSeconds }])).get(key);
      if (!row) return null;
      // Counted atomically across processes: exactly one failure per window sees the limit reached.
      if (row.count === SECRET_LIMIT.max) {
        warn(`${address} sent ${row.count} invalid credentials within ${minutes(SECRET_LIMIT.windowSeconds)} (the last for ${what}); its failures get 429 until ${row.expiresAt.toISOString()}`);
      }
      return row.count > SECRET_LIMIT.max ? { retryAfterSeconds: secondsUntil(row.expiresAt, row.now) } : null;
    },

    /**
     * Checks a password under the sign-in limits: `check` runs only when neither the
     * address nor the account's delay holds it back, so a limited try learns nothing.
     */
    async guardPassword(email: string, address: string, check: () => Promise<boolean>): Promise<PasswordOutcome> {
      const keys = signInKeys(email, address);
      const live = await counts.read([keys.address, keys.account, keys.pair]);
      const fromAddress = live.get(keys.address);
      if (fromAddress && fromAddress.count >= SIGN_IN_ADDRESS_LIMIT.max) {
        return { ok: false, limited: { retryAfterSeconds: secondsUntil(fromAddress.expiresAt, fromAddress.now) } };
      }
      const account = live.get(keys.account);
      const pair = live.get(keys.pair);
      if (account && pair) {
        const readyAt = new Date(pair.lastAt.getTime() + accountDelaySeconds(account.count) * 1000);
        if (readyAt > pair.now) return { ok: false, limited: { retryAfterSeconds: secondsUntil(readyAt, pair.now) } };
      }

      if (await check()) {
        // This address is clean for the account again; the account's count stays for others.
        if (pair) await counts.forget(keys.pair);
        return { ok: true };
      }

      const rows = await counts.add([
        { key: keys.address, windowSeconds: SIGN_IN_ADDRESS_LIMIT.windowSeconds },
        { key: keys.account, windowSeconds: ACCOUNT_DELAY.windowSeconds },
        { key: keys.pair, windowSeconds: ACCOUNT_DELAY.windowSeconds },
      ]);
      const addressRow = rows.get(keys.address);
      if (addressRow?.count === SIGN_IN_ADDRESS_LIMIT.max) {
        warn(`${address} failed ${addressRow.count} sign-ins within ${minutes(SIGN_IN_ADDRESS_LIMIT.windowSeconds)}; no password from it is checked until ${addressRow.expiresAt.toISOString()}`);
      }
      const accountRow = rows.get(keys.account);
      if (accountRow?.count === ACCOUNT_DELAY.free + 1) {
        warn(`${email} failed ${accountRow.count} sign-ins within ${minutes(ACCOUNT_DELAY.windowSeconds)}; addresses that failed for it now wait between tries (up to ${ACCOUNT_DELAY.capSeconds} s)`);
      }
      return { ok: false, limited: null };
    },
  };
}

let shared: AuthLimiter | undefined;

/** The limiter of this process; its counters live in PostgreSQL, shared with the others. */
export function authLimiter(): AuthLimiter {
  shared ??= createAuthLimiter();
  return shared;
}
