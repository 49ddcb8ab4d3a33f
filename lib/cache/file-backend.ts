// The default cache storage: one directory per organisation under the data
// directory, written by `nix copy --to file://…` directly and served by `send`
// (ETag, Range, conditional GET).
import { copyFile, mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import path from 'node:path';
import send from 'send';
import { env } from '@/lib/env';
import { type CacheBackend, checkKey } from './backend';

export function cacheDir(orgId: string, dataDir = env().dataDir): string {
  return path.join(dataDir, 'cache', orgId);
}

const missing = (error: unknown) => error instanceof Error && 'code' in error && error.code === 'ENOENT';

export function fileBackend(dataDir: string): CacheBackend {
  const file = (orgId: string, key: string) => path.join(cacheDir(orgId, dataDir), checkKey(key));
  return {
    describe: (orgId) => cacheDir(orgId, dataDir),
    directory: (orgId) => cacheDir(orgId, dataDir),

    async put(orgId, key, source) {
      const target = file(orgId, key);
      await mkdir(path.dirname(target), { recursive: true });
      // Through a temporary name, so a reader never sees half a file.
      const partial = `${target}.${process.pid}.${Date.now()}.partial`;
      try {
        await copyFile(source, partial);
        await rename(partial, target);
      } finally {
        await rm(partial, { force: true });
      }
    },

    async stat(orgId, key) {
      try {
        const s = await stat(file(orgId, key));
        // The validator `send` gives the same file (the `etag` package's weak form).
        return { size: s.size, etag: `W/"${s.size.toString(16)}-${s.mtime.getTime().toString(16)}"` };
      } catch (error) {
        if (missing(error)) return null;
        throw error;
      }
    },

    async readText(orgId, key) {
      try {
        return await readFile(file(orgId, key), 'utf8');
      } catch (error) {
        if (missing(error)) return null;
        throw error;
      }
    },

    serve(req, res, orgId, key, headers) {
      return new Promise((resolve, reject) => {
        send(req, checkKey(key), { root: cacheDir(orgId, dataDir), dotfiles: 'deny', index: false, etag: true, lastModified: true, cacheControl: false })
          .on('headers', (response: ServerResponse) => {
            for (const [name, value] of Object.entries(headers)) response.setHeader(name, value);
          })
          .on('error', (error: { status?: number; headers?: Record<string, string> }) => {
            if (error.status === 404) return resolve('missing');
            if (!error.status || error.status >= 500) return reject(error);
            // What `send` answers itself without an error listener: 416 with Content-Range, 400, 412.
            res.writeHead(error.status, { 'content-type': 'text/plain; charset=utf-8', ...error.headers });
            res.end();
          })
          .pipe(res);
        // 200, 206, 304, 416 and HEAD all end here; an aborted download too.
        res.once('close', () => resolve('served'));
      });
    },

    async delete(orgId, key) {
      await rm(file(orgId, key), { force: true });
    },

    close() {},
  };
}
