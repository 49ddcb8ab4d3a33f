// Defence in depth for stored build logs and errors: Flotilla's own secrets are cut
// out of anything Nix printed before it is written to the database. The sandbox and
// the allow-listed environment (./environment.ts) are what keep a build from seeing
// them; this catches the day one of those has a hole.
import { readFileSync } from 'node:fs';
import path from 'node:path';

const REDACTED = '[redacted]';
/** Shorter values would cut ordinary words out of logs; no real secret is this short. */
const MIN_LENGTH = 8;
/** Variables whose value is a secret, by name: AUTH_SECRET, FLOTILLA_ADMIN_PASSWORD, FLOTILLA_CACHE_S3_SECRET_ACCESS_KEY, … */
const SECRET_NAME = /SECRET|PASSWORD|PASSWD|TOKEN|PRIVATE|CREDENTIAL|ACCESS_KEY/i;
/** Variables holding URLs with credentials in them. */
const URL_NAMES = ['DATABASE_URL', 'FLOTILLA_SMTP_URL'];

function urlSecrets(value: string): string[] {
  try {
    const url = new URL(value);
    return [value, url.password, decodeURIComponent(url.password)];
  } catch {
    return [value];
  }
}

/** The secret values this process knows: from its environment and the data directory's session secret. */
export function knownSecrets(source: Record<string, string | undefined> = process.env, dataDir?: string): string[] {
  const values = new Set<string>();
  for (const [name, value] of Object.entries(source)) {
    if (!value) continue;
    if (SECRET_NAME.test(name)) values.add(value.trim());
    if (URL_NAMES.includes(name)) for (const v of urlSecrets(value)) values.add(v);
  }
  if (dataDir) {
    try {
      values.add(readFileSync(path.join(dataDir, 'auth-secret'), 'utf8').trim());
    } catch {
      // No file: AUTH_SECRET came from the environment.
    }
  }
  // Longest first, so a URL is cut whole before the password inside it.
  return [...values].filter((v) => v.length >= MIN_LENGTH).sort((a, b) => b.length - a.length);
}

/** Cuts every known secret out of `text`. */
export function redactSecrets(text: string, secrets: string[]): string {
  let out = text;
  for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  return out;
}
