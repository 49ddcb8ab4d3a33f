// The narinfo format of Nix's binary caches: parsing what a client pushes, writing it
// back, and the fingerprint Nix signs (ValidPathInfo::fingerprint). Signatures are
// ed25519 through node:crypto; nothing here is home-made cryptography, only Nix's text
// formats and its base-32 alphabet.
import { createPublicKey, verify } from 'node:crypto';
import { z } from 'zod';

const STORE_DIR = '/nix/store';
const NIX32_CHARS = '0123456789abcdfghijklmnpqrsvwxyz';
const NIX32 = '[0-9a-df-np-sv-z]';
const STORE_BASENAME = new RegExp(`^${NIX32}{32}-[A-Za-z0-9+\\-._?=]{1,211}$`);
const SHA256_NIX32 = new RegExp(`^sha256:${NIX32}{52}$`);

/** Nix's base-32 (printHash32): its own alphabet, and the bytes read from the end. */
export function nix32(bytes: Uint8Array): string {
  const length = Math.ceil((bytes.length * 8) / 5);
  let out = '';
  for (let n = length - 1; n >= 0; n--) {
    const b = n * 5;
    const i = Math.floor(b / 8);
    const j = b % 8;
    const c = ((bytes[i] ?? 0) >> j) | (i + 1 < bytes.length ? (bytes[i + 1] ?? 0) << (8 - j) : 0);
    out += NIX32_CHARS[c & 0x1f];
  }
  return out;
}

/** A `sha256:<nix32>` hash as Nix writes it in narinfos. */
export const sha256Nix32 = (digest: Buffer) => `sha256:${nix32(digest)}`;

const ZNarinfo = z.object({
  storePath: z.string().refine((p) => p.startsWith(`${STORE_DIR}/`) && STORE_BASENAME.test(p.slice(STORE_DIR.length + 1)), 'StorePath is not a store path'),
  url: z.string().regex(/^nar\/[0-9a-z]+\.nar(?:\.(?:xz|bz2|zst|br|gz))?$/, 'URL is not nar/<hash>.nar[.<compression>]'),
  compression: z.enum(['none', 'xz', 'bzip2', 'zstd', 'br', 'gzip']),
  fileHash: z.string().regex(SHA256_NIX32, 'FileHash is not sha256:<base-32>'),
  fileSize: z.number().int().nonnegative(),
  narHash: z.string().regex(SHA256_NIX32, 'NarHash is not sha256:<base-32>'),
  narSize: z.number().int().positive(),
  references: z.array(z.string().regex(STORE_BASENAME, 'a reference is not a store path name')).max(100_000),
  deriver: z.string().regex(STORE_BASENAME).optional(),
  sigs: z.array(z.string().regex(/^[^:\s]+:[A-Za-z0-9+/]+={0,2}$/, 'a Sig is not name:base64')).max(32),
  ca: z.string().optional(),
});
export type TNarinfo = z.infer<typeof ZNarinfo>;

export class NarinfoError extends Error {}

const KNOWN = new Set(['StorePath', 'URL', 'Compression', 'FileHash', 'FileSize', 'NarHash', 'NarSize', 'References', 'Deriver', 'Sig', 'CA', 'System']);

/** Parses a narinfo strictly: every field once (Sig may repeat), nothing unknown, sizes as integers. */
export function parseNarinfo(text: string): TNarinfo {
  const fields = new Map<string, string>();
  const sigs: string[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const colon = line.indexOf(': ');
    if (colon <= 0) throw new NarinfoError(`not a "Name: value" line: ${JSON.stringify(line.slice(0, 80))}`);
    const name = line.slice(0, colon);
    const value = line.slice(colon + 2);
    if (!KNOWN.has(name)) throw new NarinfoError(`unknown field ${JSON.stringify(name.slice(0, 40))}`);
    if (name === 'Sig') sigs.push(value);
    else if (fields.has(name)) throw new NarinfoError(`${name} appears twice`);
    else fields.set(name, value);
  }
  const size = (name: string) => {
    const v = fields.get(name);
    return v !== undefined && /^\d{1,15}$/.test(v) ? Number(v) : Number.NaN;
  };
  const parsed = ZNarinfo.safeParse({
    storePath: fields.get('StorePath') ?? '',
    url: fields.get('URL') ?? '',
    // Required: Nix always writes it, and a missing one means bzip2 to Nix but nothing to us.
    compression: fields.get('Compression') ?? '',
    fileHash: fields.get('FileHash') ?? '',
    fileSize: size('FileSize'),
    narHash: fields.get('NarHash') ?? '',
    narSize: size('NarSize'),
    references: (fields.get('References') ?? '').split(' ').filter(Boolean),
    deriver: fields.get('Deriver') && fields.get('Deriver') !== 'unknown-deriver' ? fields.get('Deriver') : undefined,
    sigs,
    ca: fields.get('CA'),
  });
  if (!parsed.success) throw new NarinfoError(parsed.error.issues.map((i) => `${i.path.join('.') || 'narinfo'}: ${i.message}`).join('; '));
  return parsed.data;
}

/** The narinfo as Nix writes it (NarInfo::to_string). */
export function formatNarinfo(info: TNarinfo): string {
  const lines = [
    `StorePath: ${info.storePath}`,
    `URL: ${info.url}`,
    `Compression: ${info.compression}`,
    `FileHash: ${info.fileHash}`,
    `FileSize: ${info.fileSize}`,
    `NarHash: ${info.narHash}`,
    `NarSize: ${info.narSize}`,
    `References: ${info.references.join(' ')}`,
  ];
  if (info.deriver) lines.push(`Deriver: ${info.deriver}`);
  for (const sig of info.sigs) lines.push(`Sig: ${sig}`);
  if (info.ca) lines.push(`CA: ${info.ca}`);
  return `${lines.join('\n')}\n`;
}

/** The hash part of a store path or store path name: what `<hash>.narinfo` is named by. */
export const storeHashOf = (pathOrName: string) => pathOrName.slice(pathOrName.lastIndexOf('/') + 1).slice(0, 32);

/**
 * What Nix signs for a path in a binary cache (ValidPathInfo::fingerprint):
 * `1;<store path>;<nar hash, sha256:base32>;<nar size>;<references as full paths, sorted, comma-separated>`.
 */
export function fingerprint(info: Pick<TNarinfo, 'storePath' | 'narHash' | 'narSize' | 'references'>): string {
  const refs = info.references.map((r) => `${STORE_DIR}/${r}`).sort();
  return `1;${info.storePath};${info.narHash};${info.narSize};${refs.join(',')}`;
}

/** The fingerprint of a narinfo as text, or null when it lacks what a signature covers. */
export function narinfoFingerprint(text: string): string | null {
  try {
    return fingerprint(parseNarinfo(text));
  } catch {
    return null;
  }
}

/** `name:base64(32-byte ed25519 public key)` as Nix prints it, or null when it is not one. */
export function parsePublicKey(key: string): { name: string; raw: Buffer } | null {
  const colon = key.indexOf(':');
  if (colon <= 0) return null;
  const raw = Buffer.from(key.slice(colon + 1), 'base64');
  if (raw.length !== 32 || raw.toString('base64') !== key.slice(colon + 1)) return null;
  return { name: key.slice(0, colon), raw };
}

/** The names of the trusted keys that signed this narinfo validly (Nix's own check, in node:crypto). */
export function validSigners(info: TNarinfo, trustedKeys: readonly string[]): string[] {
  const message = Buffer.from(fingerprint(info), 'utf8');
  const signers: string[] = [];
  for (const key of trustedKeys) {
    const parsed = parsePublicKey(key);
    if (!parsed) continue;
    const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: parsed.raw.toString('base64url') }, format: 'jwk' });
    for (const sig of info.sigs) {
      const colon = sig.indexOf(':');
      if (sig.slice(0, colon) !== parsed.name) continue;
      const signature = Buffer.from(sig.slice(colon + 1), 'base64');
      if (signature.length === 64 && verify(null, message, publicKey, signature)) signers.push(parsed.name);
    }
  }
  return signers;
}

/** What `cache_objects` keeps of a narinfo for closure walks and pushed-narinfo checks. */
export const closureFields = (info: TNarinfo) => ({ narHash: info.narHash, narSize: info.narSize, references: info.references.map(storeHashOf) });
