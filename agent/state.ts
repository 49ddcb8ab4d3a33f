// The agent's state directory: its credential (0600), what enrolment told it, and a
// lock file so two agents never run against one host.
import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

// Written at enrolment; the cache settings are refreshed from every `welcome`.
export const ZAgentConfig = z.object({ server: z.url(), host: z.string().optional(), cacheUrl: z.string().optional(), cachePublicKey: z.string().optional() });
export type AgentConfig = z.infer<typeof ZAgentConfig>;

export class AgentState {
  constructor(readonly dir: string) {}

  async save(config: AgentConfig, credential: string, opts: { credential?: boolean } = {}) {
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    if (opts.credential ?? true) {
      await fs.writeFile(path.join(this.dir, 'credential'), `${credential}\n`, { mode: 0o600 });
      await fs.chmod(path.join(this.dir, 'credential'), 0o600);
    }
    await fs.writeFile(path.join(this.dir, 'agent.json'), `${JSON.stringify(config, null, 2)}\n`, { mode: 0o644 });
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
