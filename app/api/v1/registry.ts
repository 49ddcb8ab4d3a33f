// Every REST route under /api/v1 with its path, for the OpenAPI document. The
// permission tests check that this list matches the route files on disk.
import type { RouteModule } from '@/lib/api/openapi';
import * as buildDiff from './builds/[id]/diff/route';
import * as buildEvents from './builds/[id]/events/route';
import * as buildLog from './builds/[id]/log/route';
import * as buildById from './builds/[id]/route';
import * as builds from './builds/route';
import * as bulkHosts from './bulk/hosts/route';
import * as cache from './cache/route';
import * as cacheKeyRotations from './cache/key-rotations/route';
import * as cacheTrustedKeys from './cache/trusted-keys/route';
import * as deploymentEvents from './deployments/[id]/events/route';
import * as deploymentById from './deployments/[id]/route';
import * as deploymentCancel from './deployments/[id]/cancel/route';
import * as deploymentPause from './deployments/[id]/pause/route';
import * as deploymentResume from './deployments/[id]/resume/route';
import * as deploymentRollback from './deployments/[id]/rollback/route';
import * as deploymentPreview from './deployments/preview/route';
import * as deployments from './deployments/route';
import * as hostBuilds from './hosts/[name]/builds/route';
import * as hostEvents from './hosts/[name]/events/route';
import * as hostConfig from './hosts/[name]/config/route';
import * as hostConfigRevert from './hosts/[name]/config/revert/route';
import * as hostConfigVersions from './hosts/[name]/config/versions/route';
import * as hostEnrollToken from './hosts/[name]/enroll-token/route';
import * as hostCredential from './hosts/[name]/credential/route';
import * as hostByName from './hosts/[name]/route';
import * as hosts from './hosts/route';
import * as me from './me/route';
import * as decisions from './decisions/route';
import * as targetDecide from './deployments/[id]/targets/[targetId]/decide/route';
import * as fleetOverview from './fleet/overview/route';
import * as hostMetrics from './hosts/[name]/metrics/route';
import * as hostState from './hosts/[name]/state/route';
import * as snapshotRestore from './hosts/[name]/snapshots/[id]/restore/route';
import * as inventory from './inventory/route';
import * as alertRules from './alert-rules/route';
import * as alertRuleById from './alert-rules/[id]/route';
import * as alerts from './alerts/route';
import * as savedFilters from './saved-filters/route';
import * as savedFilterById from './saved-filters/[id]/route';
import * as requests from './requests/route';
import * as requestById from './requests/[id]/route';
import * as requestEvents from './requests/[id]/events/route';
import * as requestApprove from './requests/[id]/approve/route';
import * as requestDeny from './requests/[id]/deny/route';
import * as requestComments from './requests/[id]/comments/route';
import * as requestPreview from './requests/[id]/preview/route';
import * as requestWithdraw from './requests/[id]/withdraw/route';
import * as requestBatchApprove from './requests/batch-approve/route';
import * as requestStats from './requests/stats/route';
import * as requestPolicies from './request-policies/route';
import * as myMachines from './me/machines/route';
import * as moduleByName from './modules/[name]/route';
import * as modules from './modules/route';
import * as notificationsRead from './notifications/read/route';
import * as notifications from './notifications/route';
import * as packages from './packages/route';
import * as tokenById from './tokens/[id]/route';
import * as tokens from './tokens/route';
import * as userById from './users/[id]/route';
import * as users from './users/route';
import * as webhookDeliveries from './webhooks/[id]/deliveries/route';
import * as webhookById from './webhooks/[id]/route';
import * as webhookTest from './webhooks/[id]/test/route';
import * as webhooks from './webhooks/route';

export const API_ROUTES: { path: string; file: string; module: RouteModule }[] = [
  { path: '/me', file: 'me/route.ts', module: me },
  { path: '/decisions', file: 'decisions/route.ts', module: decisions },
  { path: '/deployments/{id}/targets/{targetId}/decide', file: 'deployments/[id]/targets/[targetId]/decide/route.ts', module: targetDecide },
  { path: '/fleet/overview', file: 'fleet/overview/route.ts', module: fleetOverview },
  { path: '/hosts/{name}/metrics', file: 'hosts/[name]/metrics/route.ts', module: hostMetrics },
  { path: '/hosts/{name}/state', file: 'hosts/[name]/state/route.ts', module: hostState },
  { path: '/hosts/{name}/snapshots/{id}/restore', file: 'hosts/[name]/snapshots/[id]/restore/route.ts', module: snapshotRestore },
  { path: '/inventory', file: 'inventory/route.ts', module: inventory },
  { path: '/alert-rules', file: 'alert-rules/route.ts', module: alertRules },
  { path: '/alert-rules/{id}', file: 'alert-rules/[id]/route.ts', module: alertRuleById },
  { path: '/alerts', file: 'alerts/route.ts', module: alerts },
  { path: '/saved-filters', file: 'saved-filters/route.ts', module: savedFilters },
  { path: '/saved-filters/{id}', file: 'saved-filters/[id]/route.ts', module: savedFilterById },
  { path: '/me/machines', file: 'me/machines/route.ts', module: myMachines },
  { path: '/requests', file: 'requests/route.ts', module: requests },
  { path: '/requests/stats', file: 'requests/stats/route.ts', module: requestStats },
  { path: '/requests/batch-approve', file: 'requests/batch-approve/route.ts', module: requestBatchApprove },
  { path: '/requests/{id}', file: 'requests/[id]/route.ts', module: requestById },
  { path: '/requests/{id}/events', file: 'requests/[id]/events/route.ts', module: requestEvents },
  { path: '/requests/{id}/preview', file: 'requests/[id]/preview/route.ts', module: requestPreview },
  { path: '/requests/{id}/approve', file: 'requests/[id]/approve/route.ts', module: requestApprove },
  { path: '/requests/{id}/deny', file: 'requests/[id]/deny/route.ts', module: requestDeny },
  { path: '/requests/{id}/comments', file: 'requests/[id]/comments/route.ts', module: requestComments },
  { path: '/requests/{id}/withdraw', file: 'requests/[id]/withdraw/route.ts', module: requestWithdraw },
  { path: '/request-policies', file: 'request-policies/route.ts', module: requestPolicies },
  { path: '/tokens', file: 'tokens/route.ts', module: tokens },
  { path: '/tokens/{id}', file: 'tokens/[id]/route.ts', module: tokenById },
  { path: '/users', file: 'users/route.ts', module: users },
  { path: '/users/{id}', file: 'users/[id]/route.ts', module: userById },
  { path: '/hosts', file: 'hosts/route.ts', module: hosts },
  { path: '/hosts/{name}', file: 'hosts/[name]/route.ts', module: hostByName },
  { path: '/hosts/{name}/config', file: 'hosts/[name]/config/route.ts', module: hostConfig },
  { path: '/hosts/{name}/config/versions', file: 'hosts/[name]/config/versions/route.ts', module: hostConfigVersions },
  { path: '/hosts/{name}/config/revert', file: 'hosts/[name]/config/revert/route.ts', module: hostConfigRevert },
  { path: '/hosts/{name}/enroll-token', file: 'hosts/[name]/enroll-token/route.ts', module: hostEnrollToken },
  { path: '/hosts/{name}/credential', file: 'hosts/[name]/credential/route.ts', module: hostCredential },
  { path: '/bulk/hosts', file: 'bulk/hosts/route.ts', module: bulkHosts },
  { path: '/hosts/{name}/builds', file: 'hosts/[name]/builds/route.ts', module: hostBuilds },
  { path: '/hosts/{name}/events', file: 'hosts/[name]/events/route.ts', module: hostEvents },
  { path: '/builds', file: 'builds/route.ts', module: builds },
  { path: '/builds/{id}', file: 'builds/[id]/route.ts', module: buildById },
  { path: '/builds/{id}/log', file: 'builds/[id]/log/route.ts', module: buildLog },
  { path: '/builds/{id}/events', file: 'builds/[id]/events/route.ts', module: buildEvents },
  { path: '/builds/{id}/diff', file: 'builds/[id]/diff/route.ts', module: buildDiff },
  { path: '/cache', file: 'cache/route.ts', module: cache },
  { path: '/cache/key-rotations', file: 'cache/key-rotations/route.ts', module: cacheKeyRotations },
  { path: '/cache/trusted-keys', file: 'cache/trusted-keys/route.ts', module: cacheTrustedKeys },
  { path: '/deployments', file: 'deployments/route.ts', module: deployments },
  { path: '/deployments/{id}', file: 'deployments/[id]/route.ts', module: deploymentById },
  { path: '/deployments/{id}/events', file: 'deployments/[id]/events/route.ts', module: deploymentEvents },
  { path: '/deployments/preview', file: 'deployments/preview/route.ts', module: deploymentPreview },
  { path: '/deployments/{id}/pause', file: 'deployments/[id]/pause/route.ts', module: deploymentPause },
  { path: '/deployments/{id}/resume', file: 'deployments/[id]/resume/route.ts', module: deploymentResume },
  { path: '/deployments/{id}/cancel', file: 'deployments/[id]/cancel/route.ts', module: deploymentCancel },
  { path: '/deployments/{id}/rollback', file: 'deployments/[id]/rollback/route.ts', module: deploymentRollback },
  { path: '/modules', file: 'modules/route.ts', module: modules },
  { path: '/packages', file: 'packages/route.ts', module: packages },
  { path: '/modules/{name}', file: 'modules/[name]/route.ts', module: moduleByName },
  { path: '/webhooks', file: 'webhooks/route.ts', module: webhooks },
  { path: '/webhooks/{id}', file: 'webhooks/[id]/route.ts', module: webhookById },
  { path: '/webhooks/{id}/test', file: 'webhooks/[id]/test/route.ts', module: webhookTest },
  { path: '/webhooks/{id}/deliveries', file: 'webhooks/[id]/deliveries/route.ts', module: webhookDeliveries },
  { path: '/notifications', file: 'notifications/route.ts', module: notifications },
  { path: '/notifications/read', file: 'notifications/read/route.ts', module: notificationsRead },
];
