import { route } from '@/lib/api/route';
import { Registry } from 'prom-client';
import { metrics } from '@/lib/health/metrics';
import { fleetRegistry } from '@/lib/health/prometheus';

export const dynamic = 'force-dynamic';

export const GET = route({ access: 'metrics.read', summary: 'Prometheus metrics: this process, and the fleet of the token\'s organisation (scrape with a Bearer API token)' }, async ({ caller }) => {
  const registry = Registry.merge([metrics().registry, await fleetRegistry(caller)]);
  return new Response(await registry.metrics(), { headers: { 'content-type': registry.contentType } });
});
