import { route } from '@/lib/api/route';
import { metrics } from '@/lib/health/metrics';

export const dynamic = 'force-dynamic';

export const GET = route({ access: 'metrics.read', summary: 'Prometheus metrics (scrape with a Bearer API token)' }, async () => {
  const { registry } = metrics();
  return new Response(await registry.metrics(), { headers: { 'content-type': registry.contentType } });
});
