// State units (DESIGN.md §10) for the server and the UI. The shapes travel between the
// agent and the server (in the closure and in the agent's reports), so they are defined
// in the wire protocol, which the agent may import; what only people read is here.
import { SNAPSHOT_POLICIES } from '@/lib/agents/protocol';

export {
  describeUnit,
  RESTORE_STATUSES,
  SNAPSHOT_POLICIES,
  SNAPSHOT_REASONS,
  STATE_KINDS,
  ZDirectoryUnit,
  ZMysqlUnit,
  ZPostgresUnit,
  ZSnapshot,
  ZStateFile,
  ZStateUnit,
  ZStateUnits,
  ZUnitName,
  type TRestoreState,
  type TSnapshot,
  type TStateKind,
  type TStateUnit,
  type TStateUnitInput,
} from '@/lib/agents/protocol';

export const SNAPSHOT_POLICY_LABELS: Record<(typeof SNAPSHOT_POLICIES)[number], string> = {
  'every-switch': 'Before every switch',
  'service-change': 'Before switches that change its service',
  never: 'Never',
};
