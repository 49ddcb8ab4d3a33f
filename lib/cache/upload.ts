// Pushing into the binary cache over HTTP, the way Nix's HTTP binary cache store
// uploads (`nix copy --to https://flotilla/cache`): a PUT of each NAR file, then a PUT
// of its narinfo. Nothing a client sends is believed:
// - a NAR must hash to the name it is uploaded under (FileHash), and is unpacked as it
//   arrives to learn its NarHash and NarSize; it stays invisible to hosts until claimed;
// - a narinfo must name an uploaded (or already cached) NAR whose hashes and sizes it
//   states exactly, reference only paths the cache holds, and, when the organisation
//   lists trusted CI keys, carry a valid signature by one of them;
// - then the server signs it with the fleet key (what agents trust) and publishes it.
// A refused narinfo takes its unclaimed NAR with it: a refusal leaves nothing behind.
// Why the server signs instead of agents trusting CI keys: docs/decisions/0023.
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import { PassThrough, Transform, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { and, eq, inArray } from 'drizzle-orm';
import { db } from '@/lib/db/client';
import { cacheObjects, cacheUploads } from '@/lib/db/schema';
import { env } from '@/lib/env';
import { checkKey } from './backend';
import { secretKeyOf, signWithNixKey } from './keys';
import { closureFields, fingerprint, formatNarinfo, NarinfoError, nix32, parseNarinfo, type TNarinfo, validSigners } from './narinfo';
import { cacheBackend } from './storage';
import { trustedKeys } from './trusted-keys';

/** A refusal the client caused: answered with this status and message, never a 500. */
export class UploadRefused extends Error {
  constructor(
    readonly status: 400 | 409 | 413 | 415,
    message: string,
  ) {
    super(message);
  }
}

const MAX_NARINFO_BYTES = 1024 * 1024;

/** How each compression Nix can write is unpacked: in-process where Node can, else the system's tool. */
const UNPACKERS: Record<string, { tool?: [string, string[]]; stream?: () => Transform }> = {
  '': { stream: () => new PassThrough() },
  xz: { tool: ['xz', ['-dc']] },
  bz2: { tool: ['bzip2', ['-dc']] },
  zst: { tool: ['zstd', ['-dc', '-q']] },
  br: { stream: () => zlib.createBrotliDecompress() },
  gz: { stream: () => zlib.createGunzip() },
};

/** Counts and hashes what passes through. */
function digestSink() {
  const hash = createHash('sha256');
  let size = 0;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      size += chunk.length;
      done();
    },
  });
  return { sink, result: () => ({ digest: hash.digest(), size }) };
}

/** The NAR's own hash and size, from its compressed file. A file that does not unpack is refused. */
async function narDigest(file: string, extension: string): Promise<{ narHash: string; narSize: number }> {
  const unpacker = UNPACKERS[extension];
  if (!unpacker) throw new UploadRefused(415, `NAR files compressed as .${extension} are not accepted`);
  const { sink, result } = digestSink();
  if (unpacker.stream) {
    await pipeline(createReadStream(file), unpacker.stream(), sink).catch(() => {
      throw new UploadRefused(400, `the NAR file is not valid ${extension} data`);
    });
  } else if (unpacker.tool) {
    const [command, args] = unpacker.tool;
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'ignore'] });
    const exited = new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', resolve);
    });
    child.stdin.on('error', () => {});
    const code = await Promise.all([pipeline(createReadStream(file), child.stdin).catch(() => {}), pipeline(child.stdout as Readable, sink), exited])
      .then(([, , c]) => c)
      .catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') throw new UploadRefused(415, `this server cannot unpack .${extension} NAR files (${command} is not installed); push with ?compression=xz`);
        throw error;
      });
    if (code !== 0) throw new UploadRefused(400, `the NAR file is not valid ${extension} data`);
  }
  const { digest, size } = result();
  if (size === 0) throw new UploadRefused(400, 'the NAR file unpacks to nothing');
  return { narHash: `sha256:${nix32(digest)}`, narSize: size };
}

const NAR_KEY = /^nar\/([0-9a-z]+)\.nar(?:\.([a-z0-9]+))?$/;

async function uploadDir() {
  // In the data directory, not /tmp: NARs can be large and /tmp is often memory.
  const dir = path.join(env().dataDir, 'cache-uploads');
  await mkdir(dir, { recursive: true });
  return mkdtemp(path.join(dir, 'put-'));
}

/**
 * PUT nar/<filehash>.nar.<ext>: kept only if the body hashes to its name and unpacks;
 * recorded as an unclaimed upload until a narinfo names it.
 */
export async function receiveNar(req: IncomingMessage, orgId: string, key: string): Promise<'stored' | 'known'> {
  const match = NAR_KEY.exec(checkKey(key));
  if (!match) throw new UploadRefused(400, 'not a NAR file name');
  const [, nameHash = '', extension = ''] = match;
  if (nameHash.length !== 52) throw new UploadRefused(400, 'a NAR file is named by the base-32 SHA-256 of its contents (52 characters)');
  const dir = await uploadDir();
  try {
    const file = path.join(dir, 'nar');
    const { sink: fileSink, result: fileResult } = digestSink();
    const tee = new PassThrough();
    tee.pipe(fileSink);
    await pipeline(req, tee, createWriteStream(file, { mode: 0o600 }));
    const { digest, size } = fileResult();
    if (nix32(digest) !== nameHash) throw new UploadRefused(400, `the NAR file's SHA-256 is ${nix32(digest)}, not the ${nameHash} it is named by`);
    const nar = await narDigest(file, extension);
    const backend = cacheBackend();
    const known = await backend.stat(orgId, key);
    if (!known) await backend.put(orgId, key, file, 'application/x-nix-nar');
    await db()
      .insert(cacheUploads)
      .values({ orgId, narUrl: key, fileSize: size, ...nar })
      .onConflictDoNothing();
    return known ? 'known' : 'stored';
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new UploadRefused(413, `a narinfo is at most ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The NAR a narinfo names, as the server measured it: an unclaimed upload or one a cached path already uses. */
async function measuredNar(orgId: string, narUrl: string) {
  const [upload] = await db().select().from(cacheUploads).where(and(eq(cacheUploads.orgId, orgId), eq(cacheUploads.narUrl, narUrl)));
  if (upload) return { ...upload, unclaimed: true };
  const [object] = await db()
    .select({ fileSize: cacheObjects.fileSize, narHash: cacheObjects.narHash, narSize: cacheObjects.narSize })
    .from(cacheObjects)
    .where(and(eq(cacheObjects.orgId, orgId), eq(cacheObjects.narUrl, narUrl)))
    .limit(1);
  if (object?.narHash && object.narSize !== null && object.fileSize !== null) return { fileSize: object.fileSize, narHash: object.narHash, narSize: object.narSize, unclaimed: false };
  return null;
}

/** Removes an upload nobody claimed: the NAR file too, unless a cached path uses it. */
export async function discardUpload(orgId: string, narUrl: string) {
  const [used] = await db().select({ one: cacheObjects.storeHash }).from(cacheObjects).where(and(eq(cacheObjects.orgId, orgId), eq(cacheObjects.narUrl, narUrl))).limit(1);
  if (!used) await cacheBackend().delete(orgId, narUrl);
  await db().delete(cacheUploads).where(and(eq(cacheUploads.orgId, orgId), eq(cacheUploads.narUrl, narUrl)));
}

function checkAgainstNar(info: TNarinfo, nar: { fileSize: number; narHash: string; narSize: number }) {
  const nameHash = NAR_KEY.exec(info.url)?.[1];
  if (info.fileHash !== `sha256:${nameHash}`) throw new UploadRefused(400, `FileHash ${info.fileHash} is not the hash the NAR file ${info.url} is named by`);
  if (info.fileSize !== nar.fileSize) throw new UploadRefused(400, `FileSize ${info.fileSize} is not the ${nar.fileSize} bytes uploaded as ${info.url}`);
  if (info.narHash !== nar.narHash) throw new UploadRefused(400, `NarHash ${info.narHash} does not match the uploaded NAR (${nar.narHash}): the NAR was altered or belongs to another path`);
  if (info.narSize !== nar.narSize) throw new UploadRefused(400, `NarSize ${info.narSize} does not match the uploaded NAR (${nar.narSize} bytes)`);
}

async function assertReferencesCached(orgId: string, info: TNarinfo) {
  const self = info.storePath.slice('/nix/store/'.length);
  const refs = info.references.filter((r) => r !== self);
  const hashes = refs.map((r) => r.slice(0, 32));
  const present = new Set<string>();
  for (let i = 0; i < hashes.length; i += 1000) {
    const rows = await db()
      .select({ storeHash: cacheObjects.storeHash })
      .from(cacheObjects)
      .where(and(eq(cacheObjects.orgId, orgId), inArray(cacheObjects.storeHash, hashes.slice(i, i + 1000))));
    for (const r of rows) present.add(r.storeHash);
  }
  const missing = refs.filter((r) => !present.has(r.slice(0, 32)));
  if (missing.length) throw new UploadRefused(400, `references not in this cache yet (push them first): ${missing.slice(0, 10).join(' ')}${missing.length > 10 ? ` and ${missing.length - 10} more` : ''}`);
}

async function assertTrustedSignature(orgId: string, info: TNarinfo) {
  const trusted = await trustedKeys(orgId);
  if (trusted.length === 0) return;
  if (validSigners(info, trusted).length === 0) {
    throw new UploadRefused(400, `${info.storePath} carries no valid signature by a trusted CI key (${trusted.map((k) => k.slice(0, k.indexOf(':'))).join(', ')}); push with ?secret-key=<your CI key>`);
  }
}

export type Pusher = { orgId: string; tokenId: string | null };

/**
 * PUT <hash>.narinfo: checked against its NAR, its references and the trusted CI keys,
 * signed with the fleet key, recorded, and only then visible. Returns whether it was new.
 */
export async function receiveNarinfo(req: IncomingMessage, pusher: Pusher, storeHash: string): Promise<'published' | 'known'> {
  const { orgId } = pusher;
  let info: TNarinfo;
  try {
    info = parseNarinfo(await readBody(req, MAX_NARINFO_BYTES));
  } catch (error) {
    if (error instanceof NarinfoError) throw new UploadRefused(400, `not a valid narinfo: ${error.message}`);
    throw error;
  }
  if (info.storePath.slice('/nix/store/'.length, '/nix/store/'.length + 32) !== storeHash) throw new UploadRefused(400, `StorePath ${info.storePath} does not belong at ${storeHash}.narinfo`);

  const [existing] = await db().select().from(cacheObjects).where(and(eq(cacheObjects.orgId, orgId), eq(cacheObjects.storeHash, storeHash)));
  const nar = await measuredNar(orgId, info.url);
  // A row whose narinfo never reached storage: the push that wrote it died in between. This one finishes it.
  let repair = false;
  try {
    if (existing) {
      // A store path's contents never change: the same NarHash again is a repeat, another is a lie.
      if (existing.narHash && existing.narHash !== info.narHash) throw new UploadRefused(409, `${info.storePath} is in the cache already with another NarHash (${existing.narHash})`);
      if (await cacheBackend().stat(orgId, `${storeHash}.narinfo`)) {
        if (nar?.unclaimed) await discardUpload(orgId, info.url);
        return 'known';
      }
      repair = true;
    }
    if (!nar) throw new UploadRefused(400, `upload the NAR file ${info.url} before its narinfo`);
    checkAgainstNar(info, nar);
    await assertReferencesCached(orgId, info);
    await assertTrustedSignature(orgId, info);
  } catch (error) {
    if (nar?.unclaimed) await discardUpload(orgId, info.url);
    throw error;
  }

  // The secret key is stored as `name:base64`: its name is the Sig's prefix.
  const secret = await secretKeyOf(orgId);
  const keyName = secret.slice(0, secret.indexOf(':'));
  const signed: TNarinfo = { ...info, sigs: [...info.sigs.filter((s) => !s.startsWith(`${keyName}:`)), `${keyName}:${signWithNixKey(secret, fingerprint(info))}`] };
  // The row first: a narinfo served without its row would be skipped by the next push
  // (it exists) yet refused by deployments (not recorded). A row without its narinfo is
  // only a 404: the client's retry uploads it again, and `repair` above finishes it.
  const inserted = await db().transaction(async (tx) => {
    const rows = repair
      ? []
      : await tx
          .insert(cacheObjects)
          .values({ orgId, storeHash, storePath: info.storePath, narUrl: info.url, fileSize: info.fileSize, ...closureFields(info), pushedAt: new Date(), pushedBy: pusher.tokenId })
          .onConflictDoNothing()
          .returning({ storeHash: cacheObjects.storeHash });
    await tx.delete(cacheUploads).where(and(eq(cacheUploads.orgId, orgId), eq(cacheUploads.narUrl, info.url)));
    return rows.length > 0;
  });
  if (!inserted && !repair) return 'known';
  const dir = await uploadDir();
  try {
    const file = path.join(dir, 'narinfo');
    await writeFile(file, formatNarinfo(signed), { mode: 0o600 });
    await cacheBackend().put(orgId, `${storeHash}.narinfo`, file, 'text/x-nix-narinfo');
  } catch (error) {
    if (!repair) await db().delete(cacheObjects).where(and(eq(cacheObjects.orgId, orgId), eq(cacheObjects.storeHash, storeHash)));
    throw error;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return 'published';
}
