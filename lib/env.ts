// The one typed view of the environment. Parsed once per process; a bad value stops
// the process at start with a message that names the variable (DESIGN.md §13).
import { isIP } from 'node:net';
import path from 'node:path';
import { z } from 'zod';

const optionalString = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

const ZEnv = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('production'),
    PORT: z.coerce.number().int().min(1).max(65535).default(3000),
    HOSTNAME: optionalString,
    DATABASE_URL: optionalString.pipe(
      z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL').optional(),
    ),
    FLOTILLA_DATA_DIR: optionalString,
    FLOTILLA_URL: optionalString.pipe(z.url({ protocol: /^https?$/ }).optional()),
    FLOTILLA_ADMIN_EMAIL: optionalString.pipe(z.email().optional()),
    FLOTILLA_ADMIN_PASSWORD: optionalString.pipe(z.string().min(12, 'must be at least 12 characters').optional()),
    FLOTILLA_NIXPKGS: optionalString,
    // Extra nix.conf lines for every Nix command Flotilla runs (lib/nix/run.ts), e.g. "substituters =".
    FLOTILLA_NIX_CONFIG: optionalString,
    // Whether builds may use the network (lib/nix/build-network.ts): unset means isolated for
    // the in-repo stand-in and the host's network for any other nixpkgs (docs/decisions/0018).
    FLOTILLA_BUILD_NETWORK: optionalString.pipe(z.enum(['isolated', 'host'], 'must be isolated or host').optional()),
    AUTH_SECRET: optionalString.pipe(z.string().min(32, 'must be at least 32 characters').optional()),
    // Reverse proxies whose X-Forwarded-For is believed (lib/auth/limiter/client-address.ts):
    // comma-separated addresses or CIDRs. Unset: none, the socket's peer is the client.
    FLOTILLA_TRUSTED_PROXIES: optionalString.pipe(
      z
        .string()
        .transform((value, ctx) => {
          const entries = value.split(',').map((entry) => entry.trim()).filter(Boolean);
          for (const bad of entries.filter((entry) => !isAddressOrCidr(entry))) {
            ctx.addIssue({ code: 'custom', message: `"${bad}" is not an IP address or CIDR (such as 10.0.0.0/8 or fd00::/8)` });
          }
          return entries;
        })
        .optional(),
    ),
    FLOTILLA_OIDC_ISSUER: optionalString.pipe(z.url().optional()),
    FLOTILLA_OIDC_CLIENT_ID: optionalString,
    FLOTILLA_OIDC_CLIENT_SECRET: optionalString,
    FLOTILLA_OIDC_NAME: optionalString,
    // S3-compatible storage for the binary cache (lib/cache/s3-backend.ts), on when the bucket is set.
    FLOTILLA_CACHE_S3_BUCKET: optionalString.pipe(
      z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{1,254}$/, 'must be a bucket name: letters, digits, dots and hyphens (no s3:// and no slashes)').optional(),
    ),
    FLOTILLA_CACHE_S3_ENDPOINT: optionalString.pipe(z.url({ protocol: /^https?$/ }).optional()),
    FLOTILLA_CACHE_S3_REGION: optionalString.pipe(z.string().regex(/^[a-z0-9-]+$/, 'must be a region name such as us-east-1').optional()),
    FLOTILLA_CACHE_S3_PREFIX: optionalString.pipe(
      z
        .string()
        .transform((v) => v.replace(/^\/+|\/+$/g, ''))
        .refine((v) => v === '' || v.split('/').every((part) => part !== '' && part !== '.' && part !== '..'), 'must be key segments separated by single slashes, without . or ..')
        .optional(),
    ),
    FLOTILLA_CACHE_S3_FORCE_PATH_STYLE: optionalString.pipe(
      z
        .enum(['true', 'false', '1', '0'], 'must be true or false')
        .transform((v) => v === 'true' || v === '1')
        .optional(),
    ),
    FLOTILLA_CACHE_S3_ACCESS_KEY_ID: optionalString,
    FLOTILLA_CACHE_S3_SECRET_ACCESS_KEY: optionalString,
    // Webhooks to private, loopback and unique-local addresses (a receiver on the LAN, tests).
    // Off by default: a webhook URL must not reach services only the server can (lib/notify/address-guard.ts).
    FLOTILLA_WEBHOOKS_ALLOW_PRIVATE: optionalString.pipe(
      z
        .enum(['true', 'false', '1', '0'], 'must be true or false')
        .transform((v) => v === 'true' || v === '1')
        .optional(),
    ),
    // E-mail for notifications (lib/notify/email.ts): smtp:// (STARTTLS when offered) or smtps://,
    // with user:password@ when the server wants them. Holds a password: never echoed (parseEnv).
    FLOTILLA_SMTP_URL: optionalString.pipe(z.url({ protocol: /^smtps?$/, error: 'must be an smtp:// or smtps:// URL' }).optional()),
    // The sender: an address, or `Name <address>`.
    FLOTILLA_SMTP_FROM: optionalString.pipe(
      z
        .string()
        .regex(/^(?:[^<>@\r\n]*<[^<>\s@]+@[^<>\s@]+>|[^<>\s@]+@[^<>\s@]+)$/, 'must be an e-mail address or "Name <address>"')
        .optional(),
    ),
  })
  .superRefine((env, ctx) => {
    if (Boolean(env.FLOTILLA_ADMIN_EMAIL) !== Boolean(env.FLOTILLA_ADMIN_PASSWORD)) {
      ctx.addIssue({
        code: 'custom',
        path: [env.FLOTILLA_ADMIN_EMAIL ? 'FLOTILLA_ADMIN_PASSWORD' : 'FLOTILLA_ADMIN_EMAIL'],
        message: 'FLOTILLA_ADMIN_EMAIL and FLOTILLA_ADMIN_PASSWORD must be set together',
      });
    }
    const oidc = [env.FLOTILLA_OIDC_ISSUER, env.FLOTILLA_OIDC_CLIENT_ID, env.FLOTILLA_OIDC_CLIENT_SECRET];
    if (oidc.some(Boolean) && !oidc.every(Boolean)) {
      ctx.addIssue({
        code: 'custom',
        path: ['FLOTILLA_OIDC_ISSUER'],
        message: 'FLOTILLA_OIDC_ISSUER, FLOTILLA_OIDC_CLIENT_ID and FLOTILLA_OIDC_CLIENT_SECRET must be set together',
      });
    }
    // Settings for a bucket that was never named would silently leave the cache on disk.
    const s3Settings = (
      ['ENDPOINT', 'REGION', 'PREFIX', 'FORCE_PATH_STYLE', 'ACCESS_KEY_ID', 'SECRET_ACCESS_KEY'] as const
    ).filter((name) => env[`FLOTILLA_CACHE_S3_${name}`] !== undefined);
    if (!env.FLOTILLA_CACHE_S3_BUCKET && s3Settings.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['FLOTILLA_CACHE_S3_BUCKET'],
        message: `must be set when other cache storage settings are (${s3Settings.map((n) => `FLOTILLA_CACHE_S3_${n}`).join(', ')})`,
      });
    }
    if (Boolean(env.FLOTILLA_CACHE_S3_ACCESS_KEY_ID) !== Boolean(env.FLOTILLA_CACHE_S3_SECRET_ACCESS_KEY)) {
      ctx.addIssue({
        code: 'custom',
        path: [env.FLOTILLA_CACHE_S3_ACCESS_KEY_ID ? 'FLOTILLA_CACHE_S3_SECRET_ACCESS_KEY' : 'FLOTILLA_CACHE_S3_ACCESS_KEY_ID'],
        message: 'FLOTILLA_CACHE_S3_ACCESS_KEY_ID and FLOTILLA_CACHE_S3_SECRET_ACCESS_KEY must be set together (or neither, for the SDK\'s default credentials)',
      });
    }
    // A server without a sender (or the reverse) would fail on every e-mail; say so at start.
    if (Boolean(env.FLOTILLA_SMTP_URL) !== Boolean(env.FLOTILLA_SMTP_FROM)) {
      ctx.addIssue({
        code: 'custom',
        path: [env.FLOTILLA_SMTP_URL ? 'FLOTILLA_SMTP_FROM' : 'FLOTILLA_SMTP_URL'],
        message: 'FLOTILLA_SMTP_URL and FLOTILLA_SMTP_FROM must be set together (or neither, for no e-mail)',
      });
    }
  });

function isAddressOrCidr(entry: string): boolean {
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (!family || rest.length) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

/** Where the binary cache keeps its objects when it is not a directory (DESIGN.md §6). */
export type TCacheS3 = {
  bucket: string;
  endpoint?: string;
  region: string;
  /** Key prefix without leading or trailing slash; objects are `<prefix>/<org id>/<file>`. */
  prefix: string;
  forcePathStyle: boolean;
  /** Absent: the SDK's default chain (environment, shared files, instance roles). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
};

function cacheS3(env: z.infer<typeof ZEnv>): TCacheS3 | null {
  if (!env.FLOTILLA_CACHE_S3_BUCKET) return null;
  const accessKeyId = env.FLOTILLA_CACHE_S3_ACCESS_KEY_ID;
  const secretAccessKey = env.FLOTILLA_CACHE_S3_SECRET_ACCESS_KEY;
  return {
    bucket: env.FLOTILLA_CACHE_S3_BUCKET,
    endpoint: env.FLOTILLA_CACHE_S3_ENDPOINT,
    region: env.FLOTILLA_CACHE_S3_REGION ?? 'us-east-1',
    prefix: env.FLOTILLA_CACHE_S3_PREFIX ?? '',
    // MinIO, Ceph and most self-hosted stores serve buckets as paths, not as host names.
    forcePathStyle: env.FLOTILLA_CACHE_S3_FORCE_PATH_STYLE ?? Boolean(env.FLOTILLA_CACHE_S3_ENDPOINT),
    credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : undefined,
  };
}

/** Where notification e-mail goes out; null when e-mail is off. */
export type TSmtp = { url: string; from: string };

export type TEnv = z.infer<typeof ZEnv> & { dataDir: string; publicUrl: string; cacheS3: TCacheS3 | null; smtp: TSmtp | null };

export class EnvError extends Error {}

export function parseEnv(source: Record<string, string | undefined>): TEnv {
  const result = ZEnv.safeParse(source);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const name = issue.path.join('.') || '(environment)';
      // Values that carry credentials are never echoed (the SMTP URL holds user:password@).
      const shown = name in source && !/SECRET|PASSWORD|SMTP_URL/.test(name) ? ` (got "${source[name]}")` : '';
      return `  ${name}: ${issue.message}${shown}`;
    });
    throw new EnvError(`Invalid environment:\n${lines.join('\n')}`);
  }
  const env = result.data;
  return {
    ...env,
    dataDir: path.resolve(/* turbopackIgnore: true */ env.FLOTILLA_DATA_DIR ?? 'data'),
    publicUrl: (env.FLOTILLA_URL ?? `http://localhost:${env.PORT}`).replace(/\/$/, ''),
    cacheS3: cacheS3(env),
    smtp: env.FLOTILLA_SMTP_URL && env.FLOTILLA_SMTP_FROM ? { url: env.FLOTILLA_SMTP_URL, from: env.FLOTILLA_SMTP_FROM } : null,
  };
}

let cached: TEnv | undefined;

/** The parsed environment of this process (parsed on first use). */
export function env(): TEnv {
  cached ??= parseEnv(process.env);
  return cached;
}

/** For the start script, which fills in DATABASE_URL and AUTH_SECRET before the app reads them. */
export function resetEnvCache() {
  cached = undefined;
}
