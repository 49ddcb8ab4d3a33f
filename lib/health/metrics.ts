// The process's Prometheus registry. It lives on globalThis because the custom server
// (which counts requests) and the Next.js bundle (which serves /metrics) load this
// module separately but must share one registry.
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

type Metrics = { registry: Registry; requests: Counter<'method' | 'route' | 'status'>; duration: Histogram<'method' | 'route'> };

const globalForMetrics = globalThis as unknown as { flotillaMetrics?: Metrics };

export function metrics(): Metrics {
  if (!globalForMetrics.flotillaMetrics) {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry, prefix: 'flotilla_' });
    globalForMetrics.flotillaMetrics = {
      registry,
      requests: new Counter({
        name: 'flotilla_http_requests_total',
        help: 'HTTP requests served, by method, route group and status',
        labelNames: ['method', 'route', 'status'],
        registers: [registry],
      }),
      duration: new Histogram({
        name: 'flotilla_http_request_duration_seconds',
        help: 'HTTP request duration, by method and route group',
        labelNames: ['method', 'route'],
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        registers: [registry],
      }),
    };
  }
  return globalForMetrics.flotillaMetrics;
}

/**
 * Route label with bounded cardinality: ids and names in paths are collapsed so a
 * scan of random URLs cannot grow the series without limit.
 */
export function routeGroup(pathname: string): string {
  if (pathname.startsWith('/_next/')) return '/_next';
  if (pathname.startsWith('/cache/')) return '/cache';
  if (pathname.startsWith('/api/auth/')) return '/api/auth';
  const parts = pathname.split('/').filter(Boolean).slice(0, 4);
  const known = new Set(['api', 'v1', 'health', 'metrics', 'agent', 'ws', 'tokens', 'users', 'me', 'openapi.json', 'hosts', 'builds', 'deployments', 'requests', 'cache']);
  const label = parts.map((p) => (known.has(p) ? p : ':param')).join('/');
  return pathname.startsWith('/api/') || pathname === '/metrics' ? `/${label}` : 'page';
}
