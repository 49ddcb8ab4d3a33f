// `flotilla push PATH…`: copies closures from this machine's Nix store into Flotilla's
// binary cache over HTTP. It asks the cache which paths of the closures it already has,
// says how much is left, and lets `nix copy` upload the rest (dependencies first, each
// NAR before its narinfo), printing each path as it goes. The token goes to Nix in a
// private netrc file, never on a command line.
import { spawn } from 'node:child_process';
import { mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { CliError, type CliConfig } from './client';

const err = (line: string) => process.stderr.write(`${line}\n`);

// `nix path-info --json` prints an array in Nix 2.8 and an object keyed by path in newer Nix.
const ZPathInfo = z.object({ path: z.string().optional(), narSize: z.number().optional(), valid: z.boolean().optional() });
const ZPathInfos = z.union([z.array(ZPathInfo), z.record(z.string(), ZPathInfo.nullable())]);

type NixRun = { code: number | null; stdout: string; stderr: string };

function nix(args: string[], onStderrLine?: (line: string) => void): Promise<NixRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('nix', ['--extra-experimental-features', 'nix-command', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let partial = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
      const lines = (partial + d.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) onStderrLine?.(line);
    });
    child.once('error', (error: NodeJS.ErrnoException) => reject(error.code === 'ENOENT' ? new CliError('flotilla push needs Nix (the `nix` command) on this machine') : error));
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Every path in the closures of `roots`, with its NAR size. */
async function closureOf(roots: string[]): Promise<{ path: string; narSize: number }[]> {
  const result = await nix(['path-info', '--json', '--recursive', ...roots]);
  if (result.code !== 0) throw new CliError(`nix path-info failed: ${result.stderr.trim()}`);
  const parsed = ZPathInfos.parse(JSON.parse(result.stdout));
  const entries = Array.isArray(parsed) ? parsed.map((p) => [p.path ?? '', p] as const) : Object.entries(parsed);
  const invalid = entries.filter(([, p]) => !p || p.valid === false).map(([name]) => name);
  if (invalid.length) throw new CliError(`not in this machine's Nix store: ${invalid.join(', ')}`);
  return entries.map(([name, p]) => ({ path: name, narSize: p?.narSize ?? 0 }));
}

const cacheUrl = (config: CliConfig) => `${config.server.replace(/\/+$/, '')}/cache`;

/** Which of these paths the cache already has (a HEAD of each narinfo, 16 at a time). */
async function presentInCache(config: CliConfig, paths: string[]): Promise<Set<string>> {
  const present = new Set<string>();
  let next = 0;
  const worker = async () => {
    while (next < paths.length) {
      const p = paths[next++] as string;
      const hash = path.basename(p).slice(0, 32);
      const res = await fetch(`${cacheUrl(config)}/${hash}.narinfo`, { method: 'HEAD', headers: { authorization: `Bearer ${config.token}` } });
      if (res.status === 401 || res.status === 403) throw new CliError(`the cache refused this token (${res.status}): it needs the cache.write scope`);
      if (res.ok) present.add(p);
    }
  };
  await Promise.all(Array.from({ length: Math.min(16, paths.length) }, worker));
  return present;
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

// Nix colours its messages with ANSI escapes (ESC [ … m).
const ESC = String.fromCharCode(27);
const stripColours = (text: string) => text.split(ESC).map((part, i) => (i === 0 ? part : part.replace(/^\[[0-9;]*m/, ''))).join('');

/** Nix's own messages from its internal-json log, for when the copy fails. */
function nixErrors(stderr: string): string {
  const messages: string[] = [];
  for (const line of stderr.split('\n')) {
    if (!line.startsWith('@nix ')) {
      if (line.trim()) messages.push(line.trim());
      continue;
    }
    try {
      const event = JSON.parse(line.slice(5)) as { action?: string; level?: number; msg?: string };
      if (event.action === 'msg' && (event.level ?? 9) <= 1 && event.msg) messages.push(stripColours(event.msg));
    } catch {
      // Not JSON after all: keep nothing from it.
    }
  }
  return messages.join('\n') || stderr.trim().slice(-2000);
}

export async function push(config: CliConfig, roots: string[], opts: { secretKey?: string; compression?: string }) {
  if (roots.length === 0) throw new CliError('usage: flotilla push PATH… [--secret-key FILE] [--compression xz|zstd|none]');
  const closure = await closureOf(roots);
  const present = await presentInCache(config, closure.map((p) => p.path));
  const missing = closure.filter((p) => !present.has(p.path));
  err(`${closure.length} paths in the closure; ${present.size} already in the cache; pushing ${missing.length} (${mib(missing.reduce((sum, p) => sum + p.narSize, 0))} unpacked)`);
  if (missing.length === 0) return 0;

  const dir = await mkdtemp(path.join(os.tmpdir(), 'flotilla-push-'));
  try {
    const netrc = path.join(dir, 'netrc');
    await writeFile(netrc, `machine ${new URL(config.server).hostname} login flotilla password ${config.token}\n`, { mode: 0o600 });
    const params = new URLSearchParams({ compression: opts.compression ?? 'xz' });
    if (opts.secretKey) params.set('secret-key', path.resolve(opts.secretKey));
    let copied = 0;
    const result = await nix(
      ['copy', '--log-format', 'internal-json', '-v', '--option', 'netrc-file', netrc, '--option', 'narinfo-cache-negative-ttl', '0', '--to', `${cacheUrl(config)}?${params}`, ...roots],
      (line) => {
        if (!line.startsWith('@nix ')) return;
        try {
          const event = JSON.parse(line.slice(5)) as { action?: string; type?: number; fields?: string[] };
          // actCopyPath (100): one per path, as it starts uploading.
          if (event.action === 'start' && event.type === 100 && event.fields?.[0]) err(`[${++copied}/${missing.length}] ${event.fields[0]}`);
        } catch {
          // A line Nix did not write as JSON: nothing to show.
        }
      },
    );
    if (result.code !== 0) {
      err(`nix copy failed:\n${nixErrors(result.stderr)}`);
      return 1;
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  // Trust, but check: the cache must now hold every path.
  const after = await presentInCache(config, closure.map((p) => p.path));
  const absent = closure.filter((p) => !after.has(p.path));
  if (absent.length) {
    err(`the cache still lacks ${absent.length} paths, e.g. ${absent[0]?.path}`);
    return 1;
  }
  err(`pushed; the cache has all ${closure.length} paths`);
  // Store paths on stdout (./result resolved), for the deploy.json a CI job writes next.
  for (const root of roots) process.stdout.write(`${await realpath(root).catch(() => root)}\n`);
  return 0;
}
