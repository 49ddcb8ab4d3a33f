// Cache storage in an S3-compatible bucket (AWS S3, MinIO, R2, Ceph RGW, …) through
// @aws-sdk/client-s3. Objects are `<prefix>/<org id>/<key>`. Clients never talk to
// the bucket: the server checks who may read a path first, then relays the bucket's
// answer (Range → 206 and Content-Range, If-None-Match → 304, ETag) and streams the
// body through, so a NAR is never held in memory.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { TCacheS3 } from '@/lib/env';
import { type CacheBackend, checkKey } from './backend';

/** Files above this go up in parts of this size: one failed part is retried, not the whole NAR. */
const PART_SIZE = 64 * 1024 * 1024;
const MAX_PARTS = 10_000;

/** What both HeadObject and GetObject answer, relayed to the client. */
type Relayed = Pick<HeadObjectCommandOutput, '$metadata' | 'ContentLength' | 'ContentRange' | 'ETag' | 'LastModified'>;

const statusOf = (error: unknown) => (error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined);

/** Client errors (4xx but 429) will not change on a second try; server errors and dropped connections may. */
async function withRetries<T>(attempt: () => Promise<T>): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await attempt();
    } catch (error) {
      const status = statusOf(error);
      if (tries >= 3 || (status !== undefined && status < 500 && status !== 429)) throw error;
      await sleep(500 * 2 ** tries);
    }
  }
}

const clientGone = (error: unknown) =>
  error instanceof Error && (error.name === 'AbortError' || ('code' in error && error.code === 'ERR_STREAM_PREMATURE_CLOSE'));

const SINGLE_RANGE = /^bytes=(?:\d+-\d*|-\d+)$/;

/**
 * The request's conditions in GetObject's terms. Only a single byte range is passed
 * on; for others, and under If-Range, the whole object is sent, which HTTP allows
 * (a server may ignore Range). If-None-Match wins over If-Modified-Since (RFC 9110
 * §13.2.2), so only one of them is passed.
 */
function conditions(req: IncomingMessage) {
  const range = req.headers.range?.replace(/\s+/g, '');
  const ifNoneMatch = req.headers['if-none-match'];
  const since = req.headers['if-modified-since'];
  return {
    Range: range && SINGLE_RANGE.test(range) && req.headers['if-range'] === undefined ? range : undefined,
    IfNoneMatch: ifNoneMatch || undefined,
    IfModifiedSince: !ifNoneMatch && since && !Number.isNaN(Date.parse(since)) ? new Date(since) : undefined,
  };
}

export function s3Backend(config: TCacheS3, opts: { partSize?: number } = {}): CacheBackend {
  const client = new S3Client({
    region: config.region,
    endpoint: config.endpoint,
    forcePathStyle: config.forcePathStyle,
    credentials: config.credentials,
    // By default the SDK now adds CRC checksums to uploads and sends stream bodies
    // aws-chunked with trailers, which S3-compatible servers do not all understand
    // (s3rver stores the chunk framing as the object). Checksums only where an
    // operation requires one; Content-Length and TLS still guard the bytes.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const Bucket = config.bucket;
  const objectKey = (orgId: string, key: string) => [config.prefix, orgId, checkKey(key)].filter(Boolean).join('/');
  const where = config.endpoint ? ` at ${new URL(config.endpoint).host}` : '';

  async function head(Key: string) {
    try {
      return await client.send(new HeadObjectCommand({ Bucket, Key }));
    } catch (error) {
      if (statusOf(error) === 404) return null;
      throw error;
    }
  }

  async function putInParts(Key: string, file: string, size: number, ContentType: string) {
    const partSize = Math.max(opts.partSize ?? PART_SIZE, Math.ceil(size / MAX_PARTS));
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket, Key, ContentType }));
    if (!UploadId) throw new Error(`the bucket started no multipart upload for ${Key}`);
    try {
      const Parts = [];
      for (let start = 0, PartNumber = 1; start < size; start += partSize, PartNumber++) {
        const length = Math.min(partSize, size - start);
        const { ETag } = await withRetries(() =>
          client.send(
            new UploadPartCommand({ Bucket, Key, UploadId, PartNumber, ContentLength: length, Body: createReadStream(file, { start, end: start + length - 1 }) }),
          ),
        );
        Parts.push({ PartNumber, ETag });
      }
      await client.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts } }));
    } catch (error) {
      await client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId })).catch(() => {});
      throw error;
    }
  }

  return {
    describe: (orgId) => `s3://${Bucket}/${[config.prefix, orgId].filter(Boolean).join('/')}/${where}`,

    async put(orgId, key, file, ContentType) {
      const Key = objectKey(orgId, key);
      const { size } = await stat(file);
      if (size > (opts.partSize ?? PART_SIZE)) return putInParts(Key, file, size, ContentType);
      // A fresh stream per attempt: the SDK does not retry a request whose body was a stream.
      await withRetries(() => client.send(new PutObjectCommand({ Bucket, Key, ContentType, ContentLength: size, Body: createReadStream(file) })));
    },

    async stat(orgId, key) {
      const found = await head(objectKey(orgId, key));
      return found ? { size: found.ContentLength ?? 0, etag: found.ETag ?? '' } : null;
    },

    async readText(orgId, key) {
      try {
        const out = await client.send(new GetObjectCommand({ Bucket, Key: objectKey(orgId, key) }));
        return (await out.Body?.transformToString('utf8')) ?? '';
      } catch (error) {
        if (statusOf(error) === 404) return null;
        throw error;
      }
    },

    async serve(req, res, orgId, key, headers) {
      const Key = objectKey(orgId, key);
      // A client that goes away cancels the request to the bucket as well.
      const abort = new AbortController();
      const onClose = () => {
        if (!res.writableFinished) abort.abort();
      };
      res.once('close', onClose);
      const relay = (out: Relayed) =>
        res.writeHead(out.$metadata.httpStatusCode ?? 200, {
          ...headers,
          'accept-ranges': 'bytes',
          ...(out.ContentLength !== undefined && { 'content-length': String(out.ContentLength) }),
          ...(out.ContentRange && { 'content-range': out.ContentRange }),
          ...(out.ETag && { etag: out.ETag }),
          ...(out.LastModified && { 'last-modified': out.LastModified.toUTCString() }),
        });
      try {
        const input = { Bucket, Key, ...conditions(req) };
        if (req.method === 'HEAD') {
          relay(await client.send(new HeadObjectCommand(input), { abortSignal: abort.signal }));
          res.end();
          return 'served';
        }
        const out = await client.send(new GetObjectCommand(input), { abortSignal: abort.signal });
        if (!(out.Body instanceof Readable)) throw new Error('the S3 client gave no stream for the object');
        relay(out);
        await pipeline(out.Body, res);
        return 'served';
      } catch (error) {
        // The client went away (before or while streaming): nothing to answer, nothing wrong.
        if (abort.signal.aborted && clientGone(error)) return 'served';
        const status = statusOf(error);
        if (status === 404) return 'missing';
        if (status === 304) {
          // The bucket's ETag, or else the one tag the client sent, which is what matched.
          const sent = req.headers['if-none-match'];
          const etag = (error instanceof S3ServiceException ? error.$response?.headers.etag : undefined) ?? (sent && /^(W\/)?"[^"]*"$/.test(sent) ? sent : undefined);
          res.writeHead(304, { 'cache-control': headers['cache-control'], ...(etag && { etag }) });
          res.end();
          return 'served';
        }
        if (status === 416) {
          const size = (await head(Key))?.ContentLength;
          res.writeHead(416, { 'content-type': 'text/plain; charset=utf-8', ...(size !== undefined && { 'content-range': `bytes */${size}` }) });
          res.end('range not satisfiable\n');
          return 'served';
        }
        throw error;
      } finally {
        res.off('close', onClose);
      }
    },

    async delete(orgId, key) {
      try {
        await client.send(new DeleteObjectCommand({ Bucket, Key: objectKey(orgId, key) }));
      } catch (error) {
        // S3 answers 204 for a key that is not there; some compatible stores say 404.
        if (statusOf(error) !== 404) throw error;
      }
    },

    close() {
      client.destroy();
    },
  };
}
