// Processes as Linux sees them in /proc: which machine and boot this is, whether a pid
// recorded earlier is still the same process, and the members of a process group. A
// pid alone is not an identity (pids are reused), so a process is named by its pid and
// its start time (clock ticks since boot, /proc/<pid>/stat field 22); a machine by its
// hostname and boot id. Without /proc (not Linux) nothing is known to be dead.
import { readdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';

export type ProcessRef = { pid: number; start: number | null };

/** The fields of /proc/<pid>/stat after the command name (which may hold spaces and parentheses). */
function statFields(pid: number): string[] | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  return text.slice(text.lastIndexOf(')') + 2).split(' ');
}

/** The start time of `pid` in clock ticks since boot, or null if there is no such process (or no /proc). */
export function startTicks(pid: number): number | null {
  const fields = statFields(pid);
  // Field 22 of stat; fields[0] is field 3 (state). A zombie has exited: it is not running anything.
  if (!fields || fields[0] === 'Z') return null;
  const value = Number(fields[19]);
  return Number.isFinite(value) ? value : null;
}

let cachedBootId: string | undefined;
export function bootId(): string {
  if (cachedBootId === undefined) {
    try {
      cachedBootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    } catch {
      cachedBootId = '';
    }
  }
  return cachedBootId;
}

/** This process: the machine it runs on and its own identity. */
export function thisProcess() {
  return { host: hostname(), bootId: bootId(), pid: process.pid, start: startTicks(process.pid) };
}

/** Whether a process recorded on this machine in this boot is still the same process. */
export function isAlive(ref: ProcessRef): boolean {
  if (!hasProc()) {
    try {
      process.kill(ref.pid, 0);
      return true;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'EPERM';
    }
  }
  const start = startTicks(ref.pid);
  return start !== null && (ref.start === null || start === ref.start);
}

function hasProc() {
  return bootId() !== '';
}

/** Whether a record made by `where` was made on this machine since it last booted: only then do its pids mean anything here. */
export function onThisMachine(where: { host: string | null; bootId: string | null }): boolean {
  return hasProc() && where.host === hostname() && where.bootId === bootId();
}

/** Pids whose process group is `pgid` (zombies left out). */
export function groupMembers(pgid: number): number[] {
  const members: number[] = [];
  if (!hasProc()) return members;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statFields(Number(entry));
    if (fields && fields[0] !== 'Z' && Number(fields[2]) === pgid) members.push(Number(entry));
  }
  return members;
}

/**
 * Kills the process group that `leader` started (spawned with `detached: true`, so its
 * pid is the group id). Linux keeps a group's id from being reused while any member
 * lives, so members found under that id are the group's unless its leader's pid now
 * belongs to a process started at another time: then the group is long gone and the id
 * names someone else's, which is left alone. Returns the members it signalled.
 */
export function killGroup(leader: ProcessRef, signal: NodeJS.Signals = 'SIGKILL'): number[] {
  if (!hasProc()) return [];
  const leaderStart = startTicks(leader.pid);
  if (leaderStart !== null && leader.start !== null && leaderStart !== leader.start) return [];
  const members = groupMembers(leader.pid);
  if (members.length === 0) return [];
  try {
    process.kill(-leader.pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
  return members;
}

/** Waits until no process is left in the group (SIGKILL is not instant), at most `timeoutMs`. */
export async function groupGone(pgid: number, timeoutMs = 10_000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (groupMembers(pgid).length > 0) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}
