// The binary cache against nginx from Debian serving the same directory, with the same
// client (wrk) and the same credentials header, in one run. Flotilla serves through
// server.ts's own request path (dispatchRequest: security headers, client address,
// metrics, then lib/cache/serve.ts) without Next.js; a host with a real credential reads
// a closure a deployment gave it: 1,000 narinfos and one large NAR, written through the
// real storage backend into FLOTILLA_DATA_DIR. nginx gets a config of its own
// (sendfile, keepalive) on other free ports, twice: with one worker process (like one
// Flotilla server process, one event loop) and with one per core (`auto`, Debian's default).
//   npm run bench:cache [-- --seconds 10 --narinfos 1000 --nar-mib 64 --connections 32]
// Needs `nginx` and `wrk` (Debian: apt-get install -y nginx wrk).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import { enrollHost } from '@/lib/agents/credentials';
import { cacheAccessReady } from '@/lib/cache/access';
import { cachedClosure, recordClosure } from '@/lib/cache/closure';
import { formatNarinfo, nix32 } from '@/lib/cache/narinfo';
import { cacheBackend, cacheDir } from '@/lib/cache/storage';
import { closeDb, db } from '@/lib/db/client';
import { startEmbeddedPostgres } from '@/lib/db/embedded';
import { runMigrations } from '@/lib/db/migrate';
import { cacheObjects, deployments, deploymentTargets } from '@/lib/db/schema';
import { resetEnvCache } from '@/lib/env';
import { createHost } from '@/lib/hosts/inventory';
import { dispatchRequest } from '../server';
import { createDatabase, databaseUrl, dropDatabasesLike, uniqueName } from '../test/databases';
import { makeOrg } from '../test/fixtures';

const exec = promisify(execFile);

const { values: flags } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    narinfos: { type: 'string', default: '1000' },
    'nar-mib': { type: 'string', default: '64' },
    connections: { type: 'string', default: '32' },
    // A comma-separated subset of: narinfo, cache-info, nar, nar4.
    cases: { type: 'string', default: 'narinfo,cache-info,nar,nar4' },
    // Flotilla alone (to profile it with --cpu-prof), without the comparison.
    'flotilla-only': { type: 'boolean', default: false },
  },
});
const SECONDS = Number(flags.seconds);
const NARINFOS = Number(flags.narinfos);
const NAR_MIB = Number(flags['nar-mib']);
const CONNECTIONS = Number(flags.connections);
const CASES = new Set(String(flags.cases).split(','));
const THREADS = Math.max(1, Math.min(os.availableParallelism(), CONNECTIONS));

async function need(tool: string, install: string) {
  try {
    await exec('sh', ['-c', `command -v ${tool} || test -x /usr/sbin/${tool}`]);
  } catch {
    console.error(`bench:cache needs ${tool}: ${install}`);
    process.exit(2);
  }
}
await need('wrk', 'apt-get install -y wrk');
await need('nginx', 'apt-get install -y nginx');

const NIX32 = '0123456789abcdfghijklmnpqrsvwxyz';
const storeHash = () => Array.from(randomBytes(32), (b) => NIX32[b & 31]).join('');
const sha256 = () => `sha256:${nix32(randomBytes(32))}`;

/** A closure of `count` paths whose root refers to all the others, as a CI-pushed system would be. */
async function writeClosure(orgId: string, tmp: string) {
  const backend = cacheBackend();
  const paths = Array.from({ length: NARINFOS }, (_, i) => ({ hash: storeHash(), name: i === 0 ? 'nixos-system-bench' : `pkg-${i}` }));
  const root = paths[0] as { hash: string; name: string };
  const bigNar = `nar/${nix32(randomBytes(32))}.nar.xz`;
  // The large NAR: random bytes (incompressible, like an xz file), written in 1 MiB pieces.
  const narFile = path.join(tmp, 'big.nar.xz');
  await new Promise<void>((resolve, reject) => {
    const out = createWriteStream(narFile);
    out.once('error', reject);
    for (let i = 0; i < NAR_MIB; i++) out.write(randomBytes(1024 * 1024));
    out.end(resolve);
  });
  await backend.put(orgId, bigNar, narFile, 'application/x-nix-nar');
  const rows: (typeof cacheObjects.$inferInsert)[] = [];
  const staged = path.join(tmp, 'narinfo');
  for (const [i, p] of paths.entries()) {
    const storePath = `/nix/store/${p.hash}-${p.name}`;
    const narUrl = i === 0 ? bigNar : `nar/${nix32(randomBytes(32))}.nar.xz`;
    const references = i === 0 ? paths.map((q) => `${q.hash}-${q.name}`) : [`${p.hash}-${p.name}`];
    const info = {
      storePath,
      url: narUrl,
      compression: 'xz' as const,
      fileHash: sha256(),
      fileSize: i === 0 ? NAR_MIB * 1024 * 1024 : 40_000,
      narHash: sha256(),
      narSize: 120_000,
      references,
      sigs: [`flotilla-bench-1:${randomBytes(64).toString('base64')}`],
    };
    await writeFile(staged, formatNarinfo(info));
    await backend.put(orgId, `${p.hash}.narinfo`, staged, 'text/x-nix-narinfo');
    rows.push({ orgId, storeHash: p.hash, storePath, narUrl, fileSize: info.fileSize, narHash: info.narHash, narSize: info.narSize, references: references.map((r) => r.slice(0, 32)) });
  }
  for (let i = 0; i < rows.length; i += 500) await db().insert(cacheObjects).values(rows.slice(i, i + 500));
  return { rootPath: `/nix/store/${root.hash}-${root.name}`, hashes: paths.map((p) => p.hash), bigNar };
}

async function freePort(): Promise<number> {
  const probe = http.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

async function startNginx(tmp: string, cacheRoot: string, port: number, workers: string): Promise<ChildProcess> {
  const dir = path.join(tmp, `nginx-${workers}`);
  await mkdir(dir);
  await writeFile(path.join(dir, 'nix-cache-info'), 'StoreDir: /nix/store\nWantMassQuery: 1\nPriority: 30\n');
  const conf = `
${process.getuid?.() === 0 ? 'user root;' : ''}
worker_processes ${workers};
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_timeout 65;
  keepalive_requests 1000000;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  types { text/x-nix-narinfo narinfo; application/x-nix-nar xz; text/x-nix-cache-info nix-cache-info; }
  server {
    listen 127.0.0.1:${port};
    location = /cache/nix-cache-info { alias ${dir}/nix-cache-info; }
    location /cache/ { alias ${cacheRoot}/; }
  }
}
`;
  await writeFile(path.join(dir, 'nginx.conf'), conf);
  const child = spawn('nginx', ['-c', path.join(dir, 'nginx.conf'), '-p', dir], { stdio: ['ignore', 'inherit', 'inherit'] });
  for (let i = 0; i < 100; i++) {
    const up = await fetch(`http://127.0.0.1:${port}/cache/nix-cache-info`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) return child;
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nginx did not start: ${await readFile(path.join(dir, 'error.log'), 'utf8').catch(() => '')}`);
}

type WrkResult = { requests: number; bytes: number; seconds: number; errors: number; non2xx: number };

/** One wrk run; the Lua script spreads requests over `urls` and reports exact counts. */
async function wrk(base: string, urls: string[], opts: { connections: number; threads: number; seconds: number; auth: string; tmp: string }): Promise<WrkResult> {
  const list = path.join(opts.tmp, `urls-${randomBytes(4).toString('hex')}.txt`);
  await writeFile(list, `${urls.join('\n')}\n`);
  const script = path.join(opts.tmp, 'spread.lua');
  await writeFile(
    script,
    `local paths = {}
for line in io.lines("${list}") do paths[#paths + 1] = line end
local n = 0
init = function(args) n = math.random(#paths) end
request = function()
  n = n % #paths + 1
  return wrk.format("GET", paths[n])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d\\n", summary.requests, summary.bytes, summary.duration, e.connect + e.read + e.write + e.timeout, e.status))
end
`,
  );
  const { stdout } = await exec('wrk', ['-t', String(opts.threads), '-c', String(opts.connections), '-d', `${opts.seconds}s`, '--timeout', '10s', '-s', script, '-H', `Authorization: ${opts.auth}`, base], {
    maxBuffer: 1024 * 1024,
  });
  const m = /RESULT (\d+) (\d+) (\d+) (\d+) (\d+)/.exec(stdout);
  if (!m) throw new Error(`wrk said: ${stdout}`);
  return { requests: Number(m[1]), bytes: Number(m[2]), seconds: Number(m[3]) / 1e6, errors: Number(m[4]), non2xx: Number(m[5]) };
}

async function transactions(): Promise<number> {
  const [row] = await db().execute<{ n: string }>(sql`select xact_commit + xact_rollback as n from pg_stat_database where datname = current_database()`);
  return Number(row?.n ?? 0);
}

const tmp = await mkdtemp(path.join(os.tmpdir(), 'flotilla-bench-cache-'));
const embedded = process.env.DATABASE_URL ? undefined : await startEmbeddedPostgres(tmp);
const server = process.env.DATABASE_URL ?? (embedded?.url as string);
const name = uniqueName('flotilla_bench_cache');
const nginxes: ChildProcess[] = [];
let flotilla: http.Server | undefined;
let cleaning: Promise<void> | undefined;
/** nginx, the server, the database and the temporary directory; once, from the end or from Ctrl-C. */
function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    for (const nginx of nginxes) {
      const exited = nginx.exitCode === null ? new Promise((resolve) => nginx.once('exit', resolve)) : null;
      nginx.kill('SIGTERM');
      await exited;
    }
    flotilla?.closeAllConnections();
    await new Promise((resolve) => (flotilla ? flotilla.close(resolve) : resolve(undefined)));
    await closeDb();
    await dropDatabasesLike(server, name);
    await embedded?.stop();
    await rm(tmp, { recursive: true, force: true });
  })();
  return cleaning;
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`${signal}: cleaning up`);
    void cleanUp().finally(() => process.exit(130));
  });
}
await createDatabase(server, name);
process.env.DATABASE_URL = databaseUrl(server, name);
process.env.FLOTILLA_DATA_DIR = path.join(tmp, 'data');
// Enrolment makes the organisation's cache key, kept sealed with AUTH_SECRET.
process.env.AUTH_SECRET ??= randomBytes(24).toString('hex');
resetEnvCache();
try {
  await runMigrations(process.env.DATABASE_URL);
  const fx = await makeOrg();
  const orgId = fx.org.id;
  // A host as operators make one (deploy-only: its systems come from CI), enrolled for a real credential.
  const created = await createHost(fx.members.operator.caller, { name: 'bench-host', deployOnly: true });
  const { credential } = await enrollHost({ token: created.enrollToken });
  const closure = await writeClosure(orgId, tmp);
  // What deploying a CI-pushed system records: its closure (walked from the cache), and the host's target.
  const walked = await cachedClosure(orgId, closure.rootPath);
  if (walked.missing.length || walked.paths.length !== NARINFOS) throw new Error(`closure walk found ${walked.paths.length} paths, missing ${walked.missing.length}`);
  await recordClosure(db(), orgId, closure.rootPath, walked.paths);
  const [deployment] = await db().insert(deployments).values({ orgId, strategy: {}, source: 'api', status: 'succeeded' }).returning();
  await db()
    .insert(deploymentTargets)
    .values({ deploymentId: deployment?.id as string, hostId: created.host.id, storePath: closure.rootPath, phase: 'succeeded' });

  flotilla = http.createServer(
    dispatchRequest(async (_req, res) => {
      res.writeHead(404).end();
    }),
  );
  flotilla.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => flotilla?.listen(0, '127.0.0.1', resolve));
  const ours = `http://127.0.0.1:${(flotilla.address() as AddressInfo).port}`;
  const theirs: string[] = [];
  for (const workers of ['1', 'auto']) {
    const port = await freePort();
    nginxes.push(await startNginx(tmp, cacheDir(orgId), port, workers));
    theirs.push(`http://127.0.0.1:${port}`);
  }
  const auth = `Basic ${Buffer.from(`host:${credential}`).toString('base64')}`;

  // Both serve the same bytes; Flotilla refuses without the credential and outside the closure.
  const sample = `/cache/${closure.hashes[1]}.narinfo`;
  const [a, b] = await Promise.all([ours, theirs[0] as string].map((base) => fetch(`${base}${sample}`, { headers: { authorization: auth } }).then(async (r) => `${r.status} ${await r.text()}`)));
  if (a !== b || !a?.startsWith('200 ')) throw new Error(`the two servers differ on ${sample}:\n${a}\n${b}`);
  if ((await fetch(`${ours}${sample}`)).status !== 401) throw new Error('Flotilla served a narinfo without credentials');
  if ((await fetch(`${ours}/cache/${storeHash()}.narinfo`, { headers: { authorization: auth } })).status !== 403) throw new Error('Flotilla did not refuse a path outside the closure');
  // The NAR arrives whole and unchanged from both (Flotilla streams it through buffers of its own).
  const digest = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
  const onDisk = digest(await readFile(path.join(cacheDir(orgId), closure.bigNar)));
  for (const base of [ours, ...theirs]) {
    const got = await fetch(`${base}/cache/${closure.bigNar}`, { headers: { authorization: auth } });
    if (digest(Buffer.from(await got.arrayBuffer())) !== onDisk) throw new Error(`${base} sent a different NAR`);
  }
  for (let i = 0; i < 100 && !cacheAccessReady(); i++) await new Promise((r) => setTimeout(r, 100));

  const narinfoUrls = closure.hashes.map((h) => `/cache/${h}.narinfo`);
  type Case = { id: string; label: string; unit: 'req/s' | 'MiB/s'; urls: string[]; connections: number; threads: number };
  const every: Case[] = [
    { id: 'narinfo', label: `narinfo, ${CONNECTIONS} connections`, unit: 'req/s', urls: narinfoUrls, connections: CONNECTIONS, threads: THREADS },
    { id: 'cache-info', label: `nix-cache-info, ${CONNECTIONS} conn.`, unit: 'req/s', urls: ['/cache/nix-cache-info'], connections: CONNECTIONS, threads: THREADS },
    { id: 'nar', label: `${NAR_MIB} MiB NAR, sequential`, unit: 'MiB/s', urls: [`/cache/${closure.bigNar}`], connections: 1, threads: 1 },
    { id: 'nar4', label: `${NAR_MIB} MiB NAR, 4 in parallel`, unit: 'MiB/s', urls: [`/cache/${closure.bigNar}`], connections: 4, threads: Math.min(2, THREADS) },
  ];
  const cases = every.filter((c) => CASES.has(c.id));
  const load = os.loadavg().map((l) => l.toFixed(2)).join(' ');
  console.log(`binary cache: Flotilla vs nginx ${(await exec('nginx', ['-v']).then((r) => r.stderr.trim().replace('nginx version: ', '')))}, wrk, ${SECONDS} s per run, ${os.availableParallelism()} cores, load ${load}`);
  const cores = os.availableParallelism();
  console.log(
    `${'case'.padEnd(32)} ${'Flotilla'.padStart(12)} ${'nginx 1 worker'.padStart(15)} ${'ratio'.padStart(6)} ${`nginx ${cores} workers`.padStart(16)} ${'ratio'.padStart(6)}   Flotilla's PostgreSQL tx/s`,
  );
  for (const c of cases) {
    const measure = async (base: string) => {
      // A second's warm-up: page cache, keep-alive connections, Flotilla's access memory.
      await wrk(base, c.urls, { ...c, seconds: 1, auth, tmp });
      const before = await transactions();
      const r = await wrk(base, c.urls, { ...c, seconds: SECONDS, auth, tmp });
      const tx = (await transactions()) - before - 1;
      if (r.non2xx || r.errors) throw new Error(`${c.label} on ${base}: ${r.non2xx} non-2xx answers, ${r.errors} socket errors`);
      return { rate: c.unit === 'req/s' ? r.requests / r.seconds : r.bytes / 1024 / 1024 / r.seconds, tx: tx / r.seconds };
    };
    const f = await measure(ours);
    const [one, all] = flags['flotilla-only'] ? [{ rate: Number.NaN }, { rate: Number.NaN }] : [await measure(theirs[0] as string), await measure(theirs[1] as string)];
    const fmt = (v: number, width: number) => `${v.toFixed(0)} ${c.unit}`.padStart(width);
    const ratio = (v: number) => `${(f.rate / v).toFixed(2)}×`.padStart(6);
    console.log(`${c.label.padEnd(32)} ${fmt(f.rate, 12)} ${fmt(one.rate, 15)} ${ratio(one.rate)} ${fmt(all.rate, 16)} ${ratio(all.rate)}   ${f.tx.toFixed(1)}`);
  }
} finally {
  await cleanUp();
}
process.exit(0);
