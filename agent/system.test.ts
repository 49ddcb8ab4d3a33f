// Needs-reboot by NixOS's own rule: the booted system's kernel, initrd and kernel modules
// against the current system's, not the two system paths (which differ after every switch).
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootFilesDiffer } from './system';

let tmp: string;

/** A system directory whose boot files link to these targets (as a toplevel links into the store). */
async function system(name: string, files: Record<string, string>) {
  const dir = path.join(tmp, name);
  await mkdir(dir);
  for (const [file, target] of Object.entries(files)) {
    const absolute = path.join(tmp, 'store', target);
    await mkdir(path.dirname(absolute), { recursive: true });
    await mkdir(absolute, { recursive: true });
    await symlink(absolute, path.join(dir, file));
  }
  return dir;
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'flotilla-reboot-'));
});
afterAll(async () => rm(tmp, { recursive: true, force: true }));

describe('needs reboot', () => {
  it('not after a switch that kept the kernel, initrd and modules', async () => {
    const boot = { kernel: 'linux-6.6/bzImage', initrd: 'initrd-6.6/initrd', 'kernel-modules': 'modules-6.6' };
    expect(await bootFilesDiffer(await system('booted', boot), await system('switched', boot))).toBe(false);
  });

  it('after a switch to another kernel, initrd or set of modules', async () => {
    const boot = { kernel: 'linux-6.6/bzImage', initrd: 'initrd-6.6/initrd', 'kernel-modules': 'modules-6.6' };
    const booted = await system('booted-2', boot);
    expect(await bootFilesDiffer(booted, await system('kernel', { ...boot, kernel: 'linux-6.12/bzImage' }))).toBe(true);
    expect(await bootFilesDiffer(booted, await system('initrd', { ...boot, initrd: 'initrd-b/initrd' }))).toBe(true);
    expect(await bootFilesDiffer(booted, await system('modules', { ...boot, 'kernel-modules': 'modules-b' }))).toBe(true);
  });

  it('never for systems without boot files (containers, the stand-in)', async () => {
    expect(await bootFilesDiffer(await system('bare-1', {}), await system('bare-2', {}))).toBe(false);
  });
});
