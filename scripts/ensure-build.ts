// `npm start` builds the web app when there is no build or the sources changed since
// the last one, so a fresh clone needs nothing but `npm install && npm start`.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const SOURCES = ['app', 'components', 'lib', 'next.config.ts', 'proxy.ts', 'postcss.config.mjs', 'package.json', 'package-lock.json', 'tsconfig.json'];

function newestMtime(root: string, entry: string): number {
  const full = path.join(root, entry);
  if (!existsSync(full)) return 0;
  const stat = statSync(full);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const name of readdirSync(full, { recursive: true, encoding: 'utf8' })) {
    newest = Math.max(newest, statSync(path.join(full, name)).mtimeMs);
  }
  return newest;
}

export function buildIsStale(root: string): boolean {
  const buildId = path.join(root, '.next', 'BUILD_ID');
  if (!existsSync(buildId)) return true;
  const built = statSync(buildId).mtimeMs;
  return SOURCES.some((entry) => newestMtime(root, entry) > built);
}

export function ensureBuild(root: string, log: (line: string) => void) {
  if (!buildIsStale(root)) return;
  log('building the web app (first start, or the sources changed)…');
  const result = spawnSync(process.execPath, [path.join(root, 'node_modules', 'next', 'dist', 'bin', 'next'), 'build'], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, NODE_ENV: 'production', NEXT_TELEMETRY_DISABLED: '1' },
  });
  if (result.status !== 0) throw new Error(`next build failed (exit ${result.status ?? result.signal})`);
}
