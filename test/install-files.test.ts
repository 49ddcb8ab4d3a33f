// The ways to install Flotilla, checked as far as this machine can without Docker or
// nixpkgs: docker/compose.yaml parses and gives the Flotilla containers a valid
// environment of variables that lib/env.ts knows; the image runs the README's start
// path; every .nix file parses with real Nix and the flake exports both NixOS modules;
// and npm leaves package-lock.json alone whichever npm (10 or 11) installs from it.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { parseEnv } from '@/lib/env';
import { runNix } from '@/lib/nix/run';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '..');
const read = (file: string) => readFile(path.join(root, file), 'utf8');

// Variables the image sets for other programs than Flotilla, and why.
const OTHER_PROGRAMS: Record<string, string> = {
  NIX_REMOTE: 'Nix: builds go through the nix-daemon (lib/nix/environment.ts passes it to nix)',
  NEXT_TELEMETRY_DISABLED: 'Next.js',
  NPM_CONFIG_UPDATE_NOTIFIER: 'npm, which runs the start scripts',
};

// What a user writes into docker/.env where the example leaves a value empty.
const FILLED_IN: Record<string, string> = {
  POSTGRES_PASSWORD: '0123456789abcdef0123456789abcdef0123456789abcdef',
  AUTH_SECRET: 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA==',
};

const ZService = z.object({
  image: z.string().optional(),
  command: z.array(z.string()).optional(),
  environment: z.record(z.string(), z.string()).optional(),
  env_file: z.union([z.string(), z.array(z.string())]).optional(),
  volumes: z.array(z.string()).optional(),
  healthcheck: z.object({ test: z.array(z.string()).optional(), disable: z.boolean().optional() }).optional(),
  depends_on: z.record(z.string(), z.object({ condition: z.string() })).optional(),
  privileged: z.boolean().optional(),
});
const ZCompose = z.object({
  services: z.object({ postgres: ZService, server: ZService, worker: ZService }),
  volumes: z.record(z.string(), z.unknown()),
});
type TService = z.infer<typeof ZService>;

/** `NAME=value` lines of an env file, commented-out examples included (`# NAME=value`). */
function envFileAssignments(text: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^#?\s*([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (match) found.set(match[1] as string, (match[2] as string).trim());
  }
  return found;
}

/** Compose's ${NAME}, ${NAME:-default} and ${NAME:?message}, from `values`; a missing required one throws, as `up` would. */
function interpolate(text: string, values: Map<string, string>): string {
  return text.replace(/\$\{([A-Z][A-Z0-9_]*)(?::([-?])([^}]*))?\}/g, (_, name: string, kind?: string, rest?: string) => {
    const value = values.get(name);
    if (value) return value;
    if (kind === '-') return rest ?? '';
    if (kind === '?') throw new Error(`compose would refuse to start: ${name}: ${rest}`);
    return '';
  });
}

/** The names compose.yaml itself reads from docker/.env (`${NAME…}`). */
function interpolated(text: string): Set<string> {
  return new Set([...text.matchAll(/\$\{([A-Z][A-Z0-9_]*)/g)].map((m) => m[1] as string));
}

type Instruction = { keyword: string; args: string };

/** The Dockerfile as instructions: continuation lines joined, comments dropped. */
function dockerInstructions(text: string): Instruction[] {
  const joined = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const [keyword = '', ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    });
}

/** The final stage: what the image runs. */
function finalStage(instructions: Instruction[]): Instruction[] {
  const from = instructions.map((i) => i.keyword).lastIndexOf('FROM');
  return instructions.slice(from);
}

function imageEnvironment(stage: Instruction[]): Map<string, string> {
  const env = new Map<string, string>();
  for (const { args } of stage.filter((i) => i.keyword === 'ENV')) {
    for (const pair of args.split(/\s+/)) {
      const at = pair.indexOf('=');
      if (at <= 0) throw new Error(`ENV without NAME=value: ${pair}`);
      env.set(pair.slice(0, at), pair.slice(at + 1));
    }
  }
  return env;
}

const execForm = (stage: Instruction[], keyword: string): string[] => {
  const found = stage.filter((i) => i.keyword === keyword).at(-1);
  if (!found) throw new Error(`the image has no ${keyword}`);
  return z.array(z.string()).parse(JSON.parse(found.args));
};

describe('docker/', () => {
  let composeText: string;
  let compose: z.infer<typeof ZCompose>;
  let envExample: Map<string, string>;
  let stage: Instruction[];

  beforeAll(async () => {
    composeText = await read('docker/compose.yaml');
    envExample = envFileAssignments(await read('docker/.env.example'));
    const values = new Map([...envExample, ...Object.entries(FILLED_IN)]);
    compose = ZCompose.parse(parseYaml(interpolate(composeText, values), { merge: true }));
    stage = finalStage(dockerInstructions(await read('docker/Dockerfile')));
  });

  it('compose.yaml has PostgreSQL with a health check, a server and a worker on volumes, and AUTH_SECRET from docker/.env', () => {
    const { postgres, server, worker } = compose.services;
    expect(postgres.healthcheck?.test?.join(' ')).toContain('pg_isready');
    expect(postgres.volumes?.some((v) => v.endsWith(':/var/lib/postgresql/data'))).toBe(true);
    for (const service of [server, worker]) {
      expect(service.env_file).toBe('.env');
      expect(service.depends_on?.postgres?.condition).toBe('service_healthy');
      // The worker writes the binary cache, the server serves it: one volume for both.
      expect(service.volumes).toContain('data:/var/lib/flotilla');
    }
    expect(envExample.has('AUTH_SECRET')).toBe(true);
    // The server keeps the image's health check (GET /api/health); the worker listens on nothing.
    expect(server.healthcheck).toBeUndefined();
    expect(worker.healthcheck?.disable).toBe(true);
    expect(Object.keys(compose.volumes).sort()).toEqual(['data', 'nix', 'postgres']);
  });

  it('refuses to start without the secrets, as docker compose would', () => {
    expect(() => interpolate(composeText, new Map())).toThrow(/POSTGRES_PASSWORD/);
    expect(() => interpolate(composeText, new Map([['POSTGRES_PASSWORD', 'x']]))).toThrow(/AUTH_SECRET/);
  });

  it('gives the Flotilla containers a valid environment of variables lib/env.ts knows', () => {
    const image = imageEnvironment(stage);
    const composeOnly = [...interpolated(composeText)].filter((name) => !(name in parseEnv({ [name]: FILLED_IN[name] ?? '' })));
    for (const name of ['server', 'worker'] as const) {
      const service: TService = compose.services[name];
      const environment = new Map([...image, ...envExample, ...Object.entries(FILLED_IN), ...Object.entries(service.environment ?? {})]);
      const flotillas = [...environment.keys()].filter((n) => !(n in OTHER_PROGRAMS) && !composeOnly.includes(n));
      // The whole environment at once, so values and the rules between them (pairs set together) are checked too.
      const parsed = parseEnv(Object.fromEntries([...environment].filter(([n]) => flotillas.includes(n))));
      expect(flotillas.filter((n) => !Object.hasOwn(parsed, n)), `${name}: variables lib/env.ts does not know`).toEqual([]);
      // A FLOTILLA_ name that Flotilla does not read would mislead whoever sets it.
      expect([...environment.keys()].filter((n) => n.startsWith('FLOTILLA_') && !Object.hasOwn(parsed, n))).toEqual([]);
    }
    expect(composeOnly.sort()).toEqual(['HTTP_PORT', 'POSTGRES_PASSWORD']);
  });

  it("runs the README's start path: npm start in the image, the README's role scripts in compose", async () => {
    const readme = await read('README.md');
    const scripts = z.object({ scripts: z.record(z.string(), z.string()) }).parse(JSON.parse(await read('package.json'))).scripts;
    expect(execForm(stage, 'CMD')).toEqual(['npm', 'start']);
    expect(readme).toMatch(/^npm install && npm start$/m);
    expect(scripts.start).toBe('tsx scripts/start.ts');
    for (const [service, script] of [['server', 'start:server'], ['worker', 'start:worker']] as const) {
      expect(compose.services[service].command).toEqual(['npm', 'run', script]);
      expect(readme).toContain(`npm run ${script}`);
      expect(scripts[script]).toBeDefined();
    }
    // The entry point starts the daemon, then runs that command as `flotilla`.
    const entrypoint = execForm(stage, 'ENTRYPOINT');
    expect(entrypoint.at(-1)).toBe('flotilla-entrypoint');
    const script = await read('docker/entrypoint.sh');
    expect(script).toMatch(/^exec setpriv --reuid=flotilla[^\n]*\\\n[^\n]*"\$@"$/m);
    await run('sh', ['-n', path.join(root, 'docker/entrypoint.sh')]);
    expect(stage.find((i) => i.keyword === 'HEALTHCHECK')?.args).toContain('/api/health');
  });
});

describe('Nix files', () => {
  let tmp: string;

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'flotilla-flake-'));
  });

  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('every .nix file in the repository parses', async () => {
    const { stdout } = await run('git', ['ls-files', '--cached', '--others', '--exclude-standard', '--', '*.nix'], { cwd: root });
    const files = stdout.split('\n').filter((f) => f && existsSync(path.join(root, f)));
    expect(files).toEqual(expect.arrayContaining(['flake.nix', 'nix/modules/flotilla.nix', 'agent/module.nix']));
    const failures: string[] = [];
    for (const file of files) {
      const result = await runNix('nix-instantiate', ['--parse', path.join(root, file)]);
      if (result.code !== 0) failures.push(`${file}: ${result.stderr.trim()}`);
    }
    expect(failures).toEqual([]);
  });

  it('the flake exports the server and agent modules', async () => {
    // A copy, as a path: flake, since a flake in a Git checkout sees only committed files.
    await cp(path.join(root, 'flake.nix'), path.join(tmp, 'flake.nix'));
    for (const dir of ['nix', 'agent']) await cp(path.join(root, dir), path.join(tmp, dir), { recursive: true });
    const result = await runNix('nix', [
      'eval',
      '--json',
      `path:${tmp}#nixosModules`,
      '--apply',
      'modules: builtins.mapAttrs (name: m: builtins.functionArgs (import m)) modules',
    ]);
    expect(result.stderr).not.toMatch(/error/);
    const modules = z.record(z.string(), z.record(z.string(), z.boolean())).parse(JSON.parse(result.stdout));
    expect(Object.keys(modules).sort()).toEqual(['default', 'flotilla', 'flotilla-agent']);
    // NixOS modules: functions of config, lib and pkgs.
    for (const args of Object.values(modules)) expect(args).toMatchObject({ config: false, lib: false, pkgs: false });
  });
});

describe('package-lock.json', () => {
  it('is what npm 10 and npm 11 both leave unchanged', async () => {
    // npm 11 records each platform package's libc; npm 10 drops the field on every install,
    // and npm 11 does not add it back to a lockfile without it.
    expect(await read('package-lock.json')).not.toContain('"libc"');
    // An unmet peer (vite's optional esbuild peer, once) makes npm 10 add a nested copy
    // and its platform packages, while npm 11 leaves it out: the tree must have none.
    await run('npm', ['ls', '--all', '--package-lock-only'], { cwd: root });
  });
});
