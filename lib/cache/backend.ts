// The storage interface of the binary cache. Objects live in a directory under the
// data directory (file-backend.ts, the default) or in an S3-compatible bucket
// (s3-backend.ts); storage.ts picks one from the environment. Pushing, serving and
// pruning go through this interface only. Keys are relative to one organisation's
// cache: `<hash>.narinfo` or `nar/<file>`; `nix-cache-info` is never stored, the
// server writes it.
import type { IncomingMessage, ServerResponse } from 'node:http';

export type CacheObjectInfo = { size: number; etag: string };

/** Headers the server sets on every object it serves (the backend adds length, ranges and validators). */
export type ServeHeaders = { 'content-type': string; 'cache-control': string };

export interface CacheBackend {
  /** For build logs and errors: where objects go, never with credentials. */
  describe(orgId: string): string;
  /** A directory `nix copy --to file://` may write into directly, when the backend is one. */
  directory?(orgId: string): string;
  /** Stores a local file under `key`, replacing any object there. */
  put(orgId: string, key: string, file: string, contentType: string): Promise<void>;
  stat(orgId: string, key: string): Promise<CacheObjectInfo | null>;
  /** The whole object as text; for narinfos, never for NARs. */
  readText(orgId: string, key: string): Promise<string | null>;
  /**
   * Answers a GET or HEAD for the object, honouring Range, If-None-Match and
   * If-Modified-Since, and streaming the body. 'missing' means nothing was written:
   * the caller answers 404.
   */
  serve(req: IncomingMessage, res: ServerResponse, orgId: string, key: string, headers: ServeHeaders): Promise<'served' | 'missing'>;
  /** Removes the object; removing one that is not there is not an error. */
  delete(orgId: string, key: string): Promise<void>;
  /** Releases connections (a backend replaced after the environment changed). */
  close(): void;
}

const KEY = /^(?:[0-9a-df-np-sv-z]{32}\.narinfo|nar\/[0-9a-z]+\.nar(?:\.(?:xz|bz2|zst|br|gz))?)$/;

export const isCacheKey = (key: string) => KEY.test(key);

/** Keys come from request paths and from narinfos Nix wrote; anything else never reaches storage. */
export function checkKey(key: string): string {
  if (!isCacheKey(key)) throw new Error(`not a binary cache object key: ${JSON.stringify(key.slice(0, 200))}`);
  return key;
}
