// The agent's state directory: its credential (0600), what enrolment told it, and a
// lock file so two agents never run against one host.
import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

export const ZAgentConfig = z.object({ server: z.url(), host: z.string(), cacheUrl: z.string(), cachePublicKey: z.string() });
export type AgentConfig = z.infer<typeof ZAgentConfig>;

export class AgentState {
  constructor(readonly dir: string) {}

  async save(config: AgentConfig, credential: string) {
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    await fs.writeFile(path.join(this.dir, 'credential'), `${credential}\n`, { mode: 0o600 });
    await fs.chmod(path.join(this.dir, 'credential'), 0o600);
    await fs.writeFile(path.join(this.dir, 'agent.json'), `${JSON.stringify(config, null, 2)}\n`, { mode: 0o644 });
  }

  async load(): Promise<{ config: AgentConfig; credential: string }> {
    try {
      const config = ZAgentConfig.parse(JSON.parse(await fs.readFile(path.join(this.dir, 'agent.json'), 'utf8')));
      const credential = (await fs.readFile(path.join(this.dir, 'credential'), 'utf8')).trim();
      return { config, credential };
    } catch (error) {
      throw new Error(`${this.dir} holds no enrolment (${(error as Error).message}); run \`flotilla-agent enroll\` first`);
    }
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
