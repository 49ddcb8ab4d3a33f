// The default cache storage: one directory per organisation under the data
// directory, written by `nix copy --to file://…` directly. What Nix asks for (a plain
// GET or HEAD) is answered here like a file server does: small files (narinfos) from
// memory, checked against one stat per request, larger ones (NARs) opened once and
// streamed in large chunks. Ranges and conditional requests go to `send` (ETag, Range,
// If-None-Match, If-Modified-Since, If-Match…); both give the same ETag and Last-Modified.
import { statSync } from 'node:fs';
import { copyFile, type FileHandle, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import send from 'send';
import { env } from '@/lib/env';
import { type CacheBackend, checkKey, type ServeHeaders } from './backend';

export function cacheDir(orgId: string, dataDir = env().dataDir): string {
  return path.join(dataDir, 'cache', orgId);
}

const missing = (error: unknown) => error instanceof Error && 'code' in error && (error.code === 'ENOENT' || error.code === 'ENOTDIR');

/** Files up to this size are kept in memory once read (narinfos are ~0.5–20 KiB). */
const SMALL_FILE = 64 * 1024;
/** Memory for small files, per backend; the oldest read goes first. */
const SMALL_BUDGET = 32 * 1024 * 1024;
/**
 * Read size for streamed files. A read stream's default (64 KiB) costs a thread-pool
 * round trip and a socket write per 64 KiB; 1 MiB chunks reach several times the
 * throughput (bench/cache.ts).
 */
const STREAM_CHUNK = 1024 * 1024;

type Small = {
  ino: number;
  size: number;
  mtimeMs: number;
  /** Latin-1, byte for byte: Node then sends the headers and a string body in one write. */
  body: string;
  length: number;
  etag: string;
  lastModified: string;
  /** The response headers, made once for the headers the server asked for last. */
  head?: { for: ServeHeaders; headers: Record<string, string> };
};

/** The `etag` package's weak validator, which `send` gives the same file. */
const etagOf = (s: { size: number; mtime: Date }) => `W/"${s.size.toString(16)}-${s.mtime.getTime().toString(16)}"`;

/** What `send` answers itself: byte ranges and preconditions. Nix sends none of them. */
const wantsSend = (req: IncomingMessage) =>
  req.headers.range !== undefined ||
  req.headers['if-none-match'] !== undefined ||
  req.headers['if-modified-since'] !== undefined ||
  req.headers['if-match'] !== undefined ||
  req.headers['if-unmodified-since'] !== undefined;

/** The headers `send` writes on a 200, plus ours. */
function okHeaders(headers: ServeHeaders, size: number, etag: string, lastModified: string) {
  return { ...headers, 'accept-ranges': 'bytes', 'last-modified': lastModified, etag, 'content-length': String(size) };
}

/**
 * Copies `size` bytes of the file to the response through two buffers of its own: one is
 * read into while the other is written, and a buffer is read into again only once the
 * socket has taken its previous contents (the write's callback). A read stream would
 * allocate a new buffer per chunk for the garbage collector (a 64 MiB NAR: 64 of 1 MiB).
 * Ends early, without error, when the client goes away.
 */
async function pump(handle: FileHandle, size: number, res: ServerResponse) {
  const buffers = [Buffer.allocUnsafeSlow(Math.min(STREAM_CHUNK, size)), Buffer.allocUnsafeSlow(Math.min(STREAM_CHUNK, size))] as const;
  const flushed: [Promise<void>, Promise<void>] = [Promise.resolve(), Promise.resolve()];
  let gone = false;
  const closed = new Promise<void>((resolve) =>
    res.once('close', () => {
      gone = true;
      resolve();
    }),
  );
  let offset = 0;
  for (let i = 0; offset < size && !gone; i ^= 1) {
    const buffer = buffers[i] as Buffer;
    // A closed connection may never call back a write: stop waiting when it closes.
    await Promise.race([flushed[i], closed]);
    if (gone) break;
    const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, size - offset), offset);
    if (bytesRead === 0) throw new Error('the file is shorter than its stat said');
    offset += bytesRead;
    const written = new Promise<void>((resolve, reject) => res.write(bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead), (error) => (error ? reject(error) : resolve())));
    // Not left unhandled while the other buffer is used; awaited (and thrown) above.
    written.catch(() => {});
    flushed[i] = written;
  }
  await Promise.race([Promise.all(flushed), closed]);
}

export function fileBackend(dataDir: string): CacheBackend {
  // Per request: the organisation's directory once, and the key (checked: no `..`, no leading `/`) appended.
  const dirs = new Map<string, string>();
  const file = (orgId: string, key: string) => {
    let dir = dirs.get(orgId);
    if (dir === undefined) dirs.set(orgId, (dir = cacheDir(orgId, dataDir)));
    return `${dir}/${checkKey(key)}`;
  };
  const small = new Map<string, Small>();
  let smallBytes = 0;

  function remember(name: string, entry: Small) {
    const before = small.get(name);
    if (before) {
      small.delete(name);
      smallBytes -= before.length;
    }
    small.set(name, entry);
    smallBytes += entry.length;
    for (const [oldest, value] of small) {
      if (smallBytes <= SMALL_BUDGET) break;
      small.delete(oldest);
      smallBytes -= value.length;
    }
  }

  /** A plain GET or HEAD; 'missing' when there is no such file. */
  async function serveFile(req: IncomingMessage, res: ServerResponse, name: string, headers: ServeHeaders): Promise<'served' | 'missing'> {
    // Synchronous: one stat of a file whose inode the kernel holds costs a few microseconds,
    // less than the thread-pool round trip of an asynchronous one (nginx blocks on it too).
    const seen = statSync(name, { throwIfNoEntry: false });
    if (!seen?.isFile()) return 'missing';
    if (seen.size <= SMALL_FILE) {
      let entry = small.get(name);
      // A file rewritten (a narinfo re-signed, put() renaming a new one in) has a new inode, size or mtime.
      if (!entry || entry.ino !== seen.ino || entry.size !== seen.size || entry.mtimeMs !== seen.mtimeMs) {
        const handle = await open(name, 'r').catch((error: unknown) => {
          if (missing(error)) return null;
          throw error;
        });
        if (!handle) return 'missing';
        try {
          // The descriptor's own stat: the validators and the bytes are of the same file.
          const s = await handle.stat();
          const body = await handle.readFile();
          entry = { ino: s.ino, size: s.size, mtimeMs: s.mtimeMs, body: body.toString('latin1'), length: body.length, etag: etagOf(s), lastModified: s.mtime.toUTCString() };
        } finally {
          await handle.close();
        }
        if (entry.length === entry.size) remember(name, entry);
      }
      const head = entry.head;
      const same = head && head.for['content-type'] === headers['content-type'] && head.for['cache-control'] === headers['cache-control'];
      if (!same) entry.head = { for: headers, headers: okHeaders(headers, entry.length, entry.etag, entry.lastModified) };
      res.writeHead(200, (entry.head as NonNullable<Small['head']>).headers);
      if (req.method === 'HEAD') res.end();
      else res.end(entry.body, 'latin1');
      return 'served';
    }
    const handle = await open(name, 'r').catch((error: unknown) => {
      if (missing(error)) return null;
      throw error;
    });
    if (!handle) return 'missing';
    let s;
    try {
      s = await handle.stat();
    } catch (error) {
      await handle.close();
      throw error;
    }
    res.writeHead(200, okHeaders(headers, s.size, etagOf(s), s.mtime.toUTCString()));
    if (req.method === 'HEAD') {
      await handle.close();
      res.end();
      return 'served';
    }
    try {
      await pump(handle, s.size, res);
      res.end();
    } catch (error) {
      // Headers are gone: all that is left is to cut the connection (the client sees a short body).
      if (!res.destroyed) res.destroy(error instanceof Error ? error : undefined);
    } finally {
      await handle.close();
    }
    return 'served';
  }
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
      if (!wantsSend(req)) return serveFile(req, res, file(orgId, key), headers);
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
