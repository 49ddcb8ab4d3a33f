// Issue 14, finding 1: builds run operator code. A hostile host module, built through
// the product's own code with real Nix, must see nothing of the machine: not the data
// directory, not another organisation's closure, not loopback services, not Flotilla's
// secrets, and it must not run as root (docs/decisions/0018-build-sandbox.md).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as hostBuilds from '@/app/api/v1/hosts/[name]/builds/route';
import * as hostConfig from '@/app/api/v1/hosts/[name]/config/route';
import * as hosts from '@/app/api/v1/hosts/route';
import { runBuild } from '@/lib/builds/run-build';
import { db } from '@/lib/db/client';
import { builds } from '@/lib/db/schema';
import { resetEnvCache } from '@/lib/env';
import { runNix } from '@/lib/nix/run';
import { BuildSandboxUnavailable, probeBuildSandbox } from '@/lib/nix/sandbox-check';
import { knownSecrets, redactSecrets } from '@/lib/nix/secrets';
import { call, makeOrg, type Member, type OrgFixture } from '../fixtures';

const run = randomBytes(4).toString('hex');
const repo = path.resolve(import.meta.dirname, '..', '..');
/** The data directory's session secret, as scripts/start.ts writes it when AUTH_SECRET is unset. */
const FILE_SECRET = `file-secret-${randomBytes(18).toString('hex')}`;
/** sha256 of the one byte "x": the fixed output the hostile fixed-output derivation declares. */
const SHA256_OF_X = '2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881';

let dataDir: string;
let orgA: OrgFixture;
let orgB: OrgFixture;
let otherOrgSystem: string;
let listener: net.Server;
let port: number;
const connections: string[] = [];

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'flotilla-sandbox-'));
  // A data directory as `npm start` makes it (mkdir: 0755), not mkdtemp's 0700: only the sandbox may hide it.
  await chmod(dataDir, 0o755);
  await writeFile(path.join(dataDir, 'auth-secret'), `${FILE_SECRET}\n`, { mode: 0o600 });
  process.env.FLOTILLA_DATA_DIR = dataDir;
  resetEnvCache();
  orgA = await makeOrg();
  orgB = await makeOrg();
  // A local service a build must never reach (the server, PostgreSQL, a metadata endpoint…).
  listener = net.createServer((socket) => {
    connections.push(socket.remoteAddress ?? '?');
    socket.end('HTTP/1.0 200 OK\r\n\r\nx');
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  port = (listener.address() as net.AddressInfo).port;
  // Another organisation's system, built and pushed to its cache first.
  otherOrgSystem = (await saveAndBuild(orgB.members.operator, `sb${run}-other`, `{ ... }: { networking.hostName = "other-${run}"; }`)).storePath;
  expect(otherOrgSystem).toMatch(/^\/nix\/store\//);
});

afterAll(async () => {
  listener?.close();
  await rm(dataDir, { recursive: true, force: true });
});

/** Creates the host, saves `module` as its config through the API and builds it with the product's code. */
async function saveAndBuild(operator: Member, name: string, module: string) {
  const created = await call(hosts.POST, { method: 'POST', token: operator.token, json: { name } });
  expect(created.status, JSON.stringify(created.json)).toBe(201);
  const saved = await call(hostConfig.PUT, { method: 'PUT', token: operator.token, params: { name }, json: { module, baseVersion: 1, message: 'hostile' } });
  expect(saved.status, JSON.stringify(saved.json)).toBe(200);
  const requested = await call(hostBuilds.POST, { method: 'POST', token: operator.token, params: { name } });
  expect(requested.status, JSON.stringify(requested.json)).toBe(202);
  const buildId = requested.json.buildId as string;
  const outcome = await runBuild(buildId);
  const [row] = await db().select().from(builds).where(eq(builds.id, buildId));
  if (!row) throw new Error('no build row');
  return { outcome, log: row.log ?? '', error: row.error ?? '', storePath: row.storePath ?? '' };
}

/** The lines the hostile builder printed as `PROBE key=value`. */
function probes(log: string): Record<string, string> {
  return Object.fromEntries([...log.matchAll(/PROBE ([\w-]+)=(.*)$/gm)].map((m) => [m[1], (m[2] ?? '').trim()]));
}

function expectNoSecret(text: string) {
  for (const secret of [FILE_SECRET, process.env.AUTH_SECRET as string]) expect(text).not.toContain(secret);
  // Nothing had to be cut out: the sandbox kept the secrets away, not the redaction.
  expect(text).not.toContain('[redacted]');
}

describe('a hostile host module', () => {
  it('builds without the data directory, another organisation’s closure, loopback, secrets or root', async () => {
    // Shell only (no `${`): the values are written into the module as text.
    const script = `
      u=$(id -u)
      while read -r inner outer count; do
        if [ "$u" -ge "$inner" ] && [ "$u" -lt $((inner + count)) ]; then hostuid=$((outer + u - inner)); fi
      done < /proc/self/uid_map
      echo "PROBE uid=$u"
      echo "PROBE host-uid=$hostuid"
      ls -la ${dataDir}/cache && echo "PROBE data-dir=listed" || echo "PROBE data-dir=refused"
      cat ${otherOrgSystem}/nixos-version && echo "PROBE other-org=read" || echo "PROBE other-org=refused"
      NC=nc; command -v nc >/dev/null 2>&1 || NC="/bin/busybox nc"
      echo hostile | $NC -w 2 127.0.0.1 ${port} && echo "PROBE loopback=connected" || echo "PROBE loopback=refused"
      cat ${dataDir}/auth-secret && echo "PROBE secret-file=read" || echo "PROBE secret-file=refused"
      echo "PROBE env-secret=[$authSecret]"
      mkdir -p $out/bin
    `;
    const module = `{ ... }: {
      environment.systemPackages = [
        (builtins.derivation {
          name = "hostile-${run}";
          system = "x86_64-linux";
          builder = "/bin/sh";
          PATH = "/bin:/usr/bin";
          authSecret = builtins.getEnv "AUTH_SECRET";
          args = [ "-c" ''${script}'' ];
        })
      ];
    }`;
    const built = await saveAndBuild(orgA.members.operator, `sb${run}-hostile`, module);
    expect(built.outcome, built.error).toBe('built');
    const seen = probes(built.log);
    expect(seen, built.log).toMatchObject({
      'data-dir': 'refused',
      'other-org': 'refused',
      loopback: 'refused',
      'secret-file': 'refused',
      'env-secret': '[]',
    });
    expect(seen.uid).toMatch(/^\d+$/);
    expect(seen.uid).not.toBe('0');
    // The uid the builder has on the machine, through the sandbox's user namespace: a build user's.
    expect(seen['host-uid']).toMatch(/^\d+$/);
    expect(seen['host-uid']).not.toBe('0');
    expect(connections).toEqual([]);
    expect(built.log).not.toContain(orgB.org.id);
    expectNoSecret(built.log);
  });

  it('reaches nothing through a fixed-output derivation or an evaluation-time fetch (stand-in builds have no network)', async () => {
    const fod = await saveAndBuild(
      orgA.members.operator,
      `sb${run}-fod`,
      `{ ... }: {
        environment.systemPackages = [
          (builtins.derivation {
            name = "fixed-output-${run}";
            system = "x86_64-linux";
            builder = "/bin/sh";
            PATH = "/bin:/usr/bin";
            outputHashMode = "flat";
            outputHashAlgo = "sha256";
            outputHash = "${SHA256_OF_X}";
            args = [ "-c" ''
              NC=nc; command -v nc >/dev/null 2>&1 || NC="/bin/busybox nc"
              echo hostile | $NC -w 2 127.0.0.1 ${port} && echo "PROBE fod-loopback=connected" || echo "PROBE fod-loopback=refused"
              printf x > $out
            '' ];
          })
        ];
      }`,
    );
    expect(fod.outcome, fod.error).toBe('built');
    expect(probes(fod.log)['fod-loopback'], fod.log).toBe('refused');

    const fetched = await saveAndBuild(
      orgA.members.operator,
      `sb${run}-fetch`,
      `{ ... }: { networking.hostName = builtins.readFile (builtins.fetchurl { url = "http://127.0.0.1:${port}/eval-${run}"; sha256 = "${SHA256_OF_X}"; }); }`,
    );
    expect(fetched.outcome).toBe('failed');
    expect(fetched.error).toMatch(/unable to download|Couldn't connect|Network is unreachable/);
    expect(connections).toEqual([]);
  });

  it('is evaluated pure: no absolute paths, no builtins.storePath, no environment', async () => {
    const readSecret = await saveAndBuild(orgA.members.operator, `sb${run}-read`, `{ ... }: { networking.hostName = builtins.readFile "${dataDir}/auth-secret"; }`);
    expect(readSecret.outcome).toBe('failed');
    expect(readSecret.error).toMatch(/forbidden in pure eval mode/);
    expectNoSecret(`${readSecret.log}\n${readSecret.error}`);

    const storePath = await saveAndBuild(
      orgA.members.operator,
      `sb${run}-storepath`,
      `{ ... }: { environment.systemPackages = [ (builtins.storePath "${otherOrgSystem}") ]; }`,
    );
    expect(storePath.outcome).toBe('failed');
    expect(storePath.error).toMatch(/not allowed in pure evaluation mode/);
  });

  it('cannot read the machine through fetchers at evaluation (the data directory, Flotilla’s environment)', async () => {
    // Pure evaluation allows these: fetchTree copies any directory into the store and prints
    // its hash, fetchurl any file; with the right hash a second build reads the content.
    // The evaluating nix runs in a jail without them (lib/nix/jail.ts): nothing is read.
    const wrongNarHash = `sha256-${Buffer.alloc(32).toString('base64')}`;
    const targets = [
      ['tree', `builtins.fetchTree { type = "path"; path = "${dataDir}"; narHash = "${wrongNarHash}"; }`],
      ['file', `builtins.fetchurl { url = "file://${dataDir}/auth-secret"; sha256 = "${SHA256_OF_X}"; }`],
      ['environ', `builtins.fetchurl { url = "file:///proc/${process.pid}/environ"; sha256 = "${SHA256_OF_X}"; }`],
    ];
    for (const [what, expr] of targets) {
      const built = await saveAndBuild(orgA.members.operator, `sb${run}-fetch-${what}`, `{ ... }: { networking.hostName = builtins.toString (${expr}); }`);
      expect(built.outcome, what).toBe('failed');
      // A hash mismatch would mean the fetcher read it (and told its hash).
      expect(built.error, what).not.toMatch(/mismatch/i);
      expect(built.error, what).toMatch(/No such file|does not exist|Couldn't read|couldn't open/i);
      expectNoSecret(`${built.log}\n${built.error}`);
    }
  });
});

describe('the Nix commands Flotilla runs', () => {
  it('get none of Flotilla’s secrets in their environment', async () => {
    const secrets = {
      AUTH_SECRET: process.env.AUTH_SECRET as string,
      DATABASE_URL: process.env.DATABASE_URL as string,
      FLOTILLA_SMTP_URL: `smtp://mailer:smtp-pass-${run}@127.0.0.1:2525`,
      FLOTILLA_OIDC_CLIENT_SECRET: `oidc-secret-${run}`,
      FLOTILLA_CACHE_S3_SECRET_ACCESS_KEY: `s3-secret-${run}`,
    };
    const saved = { ...process.env };
    Object.assign(process.env, secrets);
    try {
      // --impure only here, to let getEnv read what the nix process was given.
      const expr = `builtins.concatStringsSep "|" (map builtins.getEnv ${JSON.stringify(Object.keys(secrets)).replace(/,/g, ' ')})`;
      const result = await runNix('nix', ['eval', '--impure', '--raw', '--expr', expr]);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toBe('||||');
    } finally {
      for (const name of Object.keys(secrets)) if (saved[name] === undefined) delete process.env[name];
      Object.assign(process.env, saved);
    }
  });

  it('cut every known secret out of what is stored (defence in depth)', () => {
    const secrets = knownSecrets({ AUTH_SECRET: 'a-session-secret-0123456789', DATABASE_URL: 'postgres://flotilla:db-pass-123@db/flotilla', PATH: '/bin' }, dataDir);
    const text = `x a-session-secret-0123456789 y db-pass-123 z ${FILE_SECRET} /bin`;
    expect(redactSecrets(text, secrets)).toBe('x [redacted] y [redacted] z [redacted] /bin');
  });
});

describe('the start-time check', () => {
  const withoutBuildUsers = () => `${process.env.FLOTILLA_NIX_CONFIG ?? ''}\nbuild-users-group = flotilla-no-such-group-${run}`;

  it('builds as a build user even when the operator’s Nix config empties build-users-group', async () => {
    const saved = process.env.FLOTILLA_NIX_CONFIG;
    process.env.FLOTILLA_NIX_CONFIG = `${saved ?? ''}\nbuild-users-group =`;
    try {
      const report = await probeBuildSandbox();
      expect(report.builderUid).toBeGreaterThan(0);
    } finally {
      process.env.FLOTILLA_NIX_CONFIG = saved;
    }
  });

  it('refuses when build users are missing, and names the fix', async () => {
    const saved = process.env.FLOTILLA_NIX_CONFIG;
    process.env.FLOTILLA_NIX_CONFIG = withoutBuildUsers();
    try {
      const error = await probeBuildSandbox().then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(BuildSandboxUnavailable);
      expect((error as Error).message).toMatch(/nixbld group/);
      expect((error as Error).message).toMatch(/nix-daemon/);
    } finally {
      process.env.FLOTILLA_NIX_CONFIG = saved;
    }
  });

  it('stops the worker process from starting where builds would not be safe', async () => {
    const child = spawn(path.join(repo, 'node_modules', '.bin', 'tsx'), ['worker.ts'], {
      cwd: repo,
      env: { ...process.env, FLOTILLA_NIX_CONFIG: withoutBuildUsers(), NODE_ENV: 'test' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    // Either it exits, or it gets as far as running: whichever comes first.
    const ended = await new Promise<string>((resolve) => {
      child.on('exit', (code) => resolve(`exit ${code}`));
      child.stdout.on('data', () => {
        if (/worker running/.test(output)) resolve('running');
      });
    });
    if (ended === 'running') child.kill('SIGKILL');
    expect(ended, output).toBe('exit 1');
    expect(output).toMatch(/Flotilla will not build/);
    expect(output).toMatch(/nixbld/);
  }, 60_000);
});
