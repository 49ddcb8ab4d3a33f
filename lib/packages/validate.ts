// Package lists are checked against the index of the organisation's nixpkgs source,
// so a typo is a clear error at save time rather than a failed build later. While
// the index is not built yet, lists are accepted as they are.
import { AppError } from '@/lib/api/errors';
import { orgNixpkgsSource } from './org-source';
import { getPackages, indexStatus } from './search';

export async function assertKnownPackages(orgId: string, packages: readonly string[]) {
  if (packages.length === 0) return;
  const source = await orgNixpkgsSource(orgId);
  if ((await indexStatus(source.key))?.status !== 'ready') return;
  const known = new Set((await getPackages(source.key, [...packages])).map((p) => p.attr));
  const unknown = packages.filter((p) => !known.has(p));
  if (unknown.length) {
    throw new AppError('unprocessable', `Not in the package index of ${source.standin ? 'the stand-in nixpkgs' : source.key}: ${unknown.join(', ')}`, { unknownPackages: unknown });
  }
}
