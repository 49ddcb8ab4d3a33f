// Reading an Authorization header, for the API, the binary cache and the agent gateway.
export type Credentials = { scheme: 'bearer'; secret: string } | { scheme: 'basic'; user: string; password: string } | { scheme: 'other' };

export function parseAuthorization(header: string | null | undefined): Credentials | null {
  if (!header) return null;
  const [scheme = '', value = ''] = header.trim().split(/\s+/, 2);
  if (scheme.toLowerCase() === 'bearer' && value) return { scheme: 'bearer', secret: value };
  if (scheme.toLowerCase() === 'basic' && value) {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon < 0 ? { scheme: 'basic', user: decoded, password: '' } : { scheme: 'basic', user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  return { scheme: 'other' };
}
