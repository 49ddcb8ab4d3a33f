// Chains of processes for dumping and restoring state: `tar | zstd > blob`,
// `pg_dump > blob`, `blob > zstd -d | mysql`. The agent holds the files (its snapshot
// store is root-only), the tools may run as the database's system user, and the bytes
// written are hashed on their way to disk so a snapshot is addressed by its content.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export type Command = { argv: string[]; runAs?: string; env?: Record<string, string> };
export type ChainResult = { ok: boolean; error: string; sha256: string | null; size: number };

const TOOL_TIMEOUT_MS = 2 * 60 * 60_000;

/** uid and gid of a system user, from /etc/passwd (the agent runs as root; tools may not). */
async function account(name: string): Promise<{ uid: number; gid: number }> {
  const passwd = await fs.readFile('/etc/passwd', 'utf8');
  for (const line of passwd.split('\n')) {
    const [user, , uid, gid] = line.split(':');
    if (user === name && uid && gid) return { uid: Number(uid), gid: Number(gid) };
  }
  throw new Error(`no system user "${name}"`);
}

async function start(cmd: Command): Promise<ChildProcess> {
  const as = cmd.runAs ? await account(cmd.runAs) : null;
  const [file, ...args] = cmd.argv as [string, ...string[]];
  return spawn(file, args, {
    env: { ...process.env, ...cmd.env },
    stdio: ['pipe', 'pipe', 'pipe'],
    ...(as ? { uid: as.uid, gid: as.gid } : {}),
  });
}

function exited(child: ChildProcess, name: string): Promise<string | null> {
  return new Promise((resolve) => {
    let stderr = '';
    child.stderr?.on('data', (d) => (stderr = `${stderr}${d}`.slice(-4000)));
    child.on('error', (error) => resolve(`${name}: ${error.message}`));
    child.on('close', (code, signal) => resolve(code === 0 ? null : `${name} failed (${signal ?? `exit ${code}`})${stderr.trim() ? `: ${stderr.trim()}` : ''}`));
  });
}

/**
 * Runs `cmds` as a pipeline: `input` (a file) feeds the first, the last one's output
 * goes to `output` (a file, hashed as written) or nowhere. Fails if any of them fails.
 */
export async function runChain(cmds: Command[], io: { input?: string; output?: string } = {}): Promise<ChainResult> {
  const children = await Promise.all(cmds.map(start));
  const done = children.map((c, i) => exited(c, cmds[i]?.argv[0] ?? 'command'));
  const timer = setTimeout(() => children.forEach((c) => c.kill('SIGKILL')), TOOL_TIMEOUT_MS);
  // A process that dies early makes the one before it write into a closed pipe: its own exit says why.
  for (const c of children) c.stdin?.on('error', () => {});
  for (let i = 0; i + 1 < children.length; i++) children[i]!.stdout!.pipe(children[i + 1]!.stdin!);
  const first = children[0]!;
  const last = children[children.length - 1]!;

  const feeding = io.input ? pipeline(createReadStream(io.input), first.stdin!).catch((e: Error) => `reading ${io.input}: ${e.message}`) : (first.stdin!.end(), null);
  const hash = createHash('sha256');
  let size = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      size += chunk.length;
      cb(null, chunk);
    },
  });
  const draining = io.output
    ? pipeline(last.stdout!, counter, createWriteStream(io.output, { mode: 0o600 })).then(() => null, (e: Error) => `writing ${io.output}: ${e.message}`)
    : (last.stdout!.resume(), Promise.resolve(null));

  const errors = (await Promise.all([...done, draining, feeding])).filter((e): e is string => typeof e === 'string');
  clearTimeout(timer);
  return { ok: errors.length === 0, error: errors.join('\n'), sha256: io.output ? hash.digest('hex') : null, size };
}

/** SHA-256 of a file, to check a snapshot before restoring it. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}
