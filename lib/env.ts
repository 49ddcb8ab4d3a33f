// The one typed view of the environment. Parsed once per process; a bad value stops
// the process at start with a message that names the variable (DESIGN.md §13).
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
    AUTH_SECRET: optionalString.pipe(z.string().min(32, 'must be at least 32 characters').optional()),
    FLOTILLA_OIDC_ISSUER: optionalString.pipe(z.url().optional()),
    FLOTILLA_OIDC_CLIENT_ID: optionalString,
    FLOTILLA_OIDC_CLIENT_SECRET: optionalString,
    FLOTILLA_OIDC_NAME: optionalString,
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
  });

export type TEnv = z.infer<typeof ZEnv> & { dataDir: string; publicUrl: string };

export class EnvError extends Error {}

export function parseEnv(source: Record<string, string | undefined>): TEnv {
  const result = ZEnv.safeParse(source);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const name = issue.path.join('.') || '(environment)';
      const shown = name in source && !/SECRET|PASSWORD/.test(name) ? ` (got "${source[name]}")` : '';
      return `  ${name}: ${issue.message}${shown}`;
    });
    throw new EnvError(`Invalid environment:\n${lines.join('\n')}`);
  }
  const env = result.data;
  return {
    ...env,
    dataDir: path.resolve(/* turbopackIgnore: true */ env.FLOTILLA_DATA_DIR ?? 'data'),
    publicUrl: (env.FLOTILLA_URL ?? `http://localhost:${env.PORT}`).replace(/\/$/, ''),
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
