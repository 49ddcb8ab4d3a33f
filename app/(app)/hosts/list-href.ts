// Links into the host list (and its CSV export) that keep the list's filters in the URL,
// so a filtered view can be shared, saved and exported as it is.
import type { THostListQuery } from '@/lib/hosts/schemas';

type ListParams = Partial<Pick<THostListQuery, 'q' | 'tag' | 'status' | 'agent' | 'sort' | 'dir' | 'page'>>;

/** The query string of these filters, leaving out defaults (first page, by name, ascending). */
export function listSearch(params: ListParams): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === '' || (key === 'page' && value === 1) || (key === 'sort' && value === 'name') || (key === 'dir' && value === 'asc')) continue;
    for (const item of Array.isArray(value) ? value : [value]) search.append(key, String(item));
  }
  return search.toString();
}

export function hostListHref(params: ListParams): string {
  const s = listSearch(params);
  return s ? `/hosts?${s}` : '/hosts';
}

/** Every host matching the filters as CSV (all pages). */
export function hostCsvHref(params: ListParams): string {
  const { page: _page, ...filters } = params;
  const s = listSearch(filters);
  return `/api/v1/hosts?format=csv${s ? `&${s}` : ''}`;
}
