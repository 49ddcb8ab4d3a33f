// `npx flotilla-agent` and `npx flotilla` work in a checkout (package.json `bin`), and
// --help prints the usage without a login, a server or a stack trace.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..');
// No saved CLI login and no token: help must not need one.
const home = mkdtempSync(path.join(os.tmpdir(), 'flotilla-help-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));
const env = { ...process.env, HOME: home, XDG_CONFIG_HOME: home, FLOTILLA_SERVER: '', FLOTILLA_TOKEN: '', npm_config_update_notifier: 'false' };

function run(command: string, args: string[], cwd = root) {
  const result = spawnSync(command, args, { cwd, env, encoding: 'utf8', timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('command-line help', () => {
  it('npx flotilla-agent --help prints the usage, with the options that simulate hosts', () => {
    const { code, stdout, stderr } = run('npx', ['flotilla-agent', '--help']);
    expect(code, stderr).toBe(0);
    expect(stdout).toContain('flotilla-agent enroll --server URL --token TOKEN');
    expect(stdout).toContain('--state-dir DIR');
    expect(stdout).toContain('--store-root DIR');
  });

  it('npx flotilla --help prints the usage, not "not logged in"', () => {
    const { code, stdout, stderr } = run('npx', ['flotilla', '--help']);
    expect(code, stderr).toBe(0);
    expect(stdout).toContain('flotilla login --server URL --email E');
    expect(stdout).toContain('flotilla deploy deploy.json');
    expect(stderr).not.toMatch(/not logged in/i);
  });

  it('the launchers work from any directory, and an unknown option is named with the usage, exit 2, no stack trace', () => {
    for (const [bin, name] of [
      ['bin/flotilla-agent.mjs', 'flotilla-agent'],
      ['bin/flotilla.mjs', 'flotilla'],
    ] as const) {
      const { code, stderr } = run(process.execPath, [path.join(root, bin), '--no-such-option'], home);
      expect(code, stderr).toBe(2);
      expect(stderr).toContain(`${name}: Unknown option '--no-such-option'`);
      expect(stderr).toContain('usage:');
      expect(stderr).not.toMatch(/^\s+at /m);
    }
  });
});
