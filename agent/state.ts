// The agent's state directory: its credential (0600), what enrolment pinned, and a lock
// file so two agents never run against one host.
import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { ZPinnedTrust, type PinnedTrust } from './trust';

/**
 * Written at enrolment. `trust` (cache URL and fleet key) changes afterwards only through
 * a rotation signed by the pinned key (agent/trust.ts); never from what a welcome says.
 */
export const ZAgentConfig = z.object({
  server: z.url(),
  host: z.string().optional(),
  trust: ZPinnedTrust.optional(),
  /** Plain http to a server that is not on loopback, allowed by this host's own config (enroll --allow-insecure). */
  allowInsecure: z.boolean().default(false),
  // Written by agents before trust pinning; read once to pin what they had.
  cacheUrl: z.string().optional(),
  cachePublicKey: z.string().optional(),
});
export type AgentConfig = z.infer<typeof ZAgentConfig>;

/** The pinned trust of a config, including one written before pinning existed. */
export function pinnedTrust(config: AgentConfig): PinnedTrust | null {
  if (config.trust) return config.trust;
  const legacy = ZPinnedTrust.safeParse({ cacheUrl: config.cacheUrl, keys: [{ publicKey: config.cachePublicKey, trustedUntil: null }] });
  return legacy.success ? legacy.data : null;
}

export class AgentState {
  constructor(readonly dir: string) {}

  async save(config: AgentConfig, credential: string, opts: { credential?: boolean } = {}) {
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    if (opts.credential ?? true) {
      await fs.writeFile(path.join(this.dir, 'credential'), `${credential}\n`, { mode: 0o600 });
      await fs.chmod(path.join(this.dir, 'credential'), 0o600);
    }
    // Atomic: a crash mid-write must not lose what the agent pinned.
    const file = path.join(this.dir, 'agent.json');
    const tmp = `${file}.${process.pid}.tmp`;
    await fs.writeFile(tmp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o644 });
    await fs.rename(tmp, file);
  }

  /** What enrolment left, overridden by command-line flags (the NixOS module passes --server and --credential-file). */
  async load(overrides: { server?: string; credentialFile?: string } = {}): Promise<{ config: AgentConfig; credential: string }> {
    const saved = await fs
      .readFile(path.join(this.dir, 'agent.json'), 'utf8')
      .then((text) => JSON.parse(text) as unknown)
      .catch(() => ({}));
    const config = ZAgentConfig.safeParse({ ...(saved as object), ...(overrides.server ? { server: overrides.server } : {}) });
    if (!config.success) throw new Error(`no server known: enrol with \`flotilla-agent enroll\` or pass --server`);
    const credentialFile = overrides.credentialFile ?? path.join(this.dir, 'credential');
    const credential = (await fs.readFile(credentialFile, 'utf8').catch(() => '')).trim();
    if (!credential) throw new Error(`no credential in ${credentialFile}: run \`flotilla-agent enroll\` first`);
    return { config: config.data, credential };
  }

  /** Takes the lock, or says which live process holds it. A lock left by a dead process is taken over. */
  async lock(): Promise<() => Promise<void>> {
    const file = path.join(this.dir, 'agent.lock');
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const handle = await fs.open(file, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o600);
        await handle.writeFile(String(process.pid));
        await handle.close();
        return () => fs.rm(file, { force: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const pid = Number((await fs.readFile(file, 'utf8').catch(() => '')).trim());
        if (pid && isAlive(pid)) throw new Error(`another flotilla-agent (pid ${pid}) is running with ${this.dir}`);
        await fs.rm(file, { force: true });
      }
    }
    throw new Error(`cannot take the lock ${file}`);
  }
}

function isAlive(pid: number) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
