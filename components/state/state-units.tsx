// The state units a host's running system declares (flotilla.state), as the agent reported them.
import { Badge } from '@/components/ui/card';
import { Table, TBody, Td, Th } from '@/components/ui/table';
import { describeUnit, SNAPSHOT_POLICY_LABELS, type TStateUnit } from '@/lib/state/schemas';

const KIND_LABELS: Record<TStateUnit['kind'], string> = { directory: 'Directory', postgresql: 'PostgreSQL', mysql: 'MySQL' };

export function StateUnitsTable({ units }: { units: TStateUnit[] }) {
  return (
    <Table>
      <thead>
        <tr>
          <Th>Unit</Th>
          <Th>Kind</Th>
          <Th>What</Th>
          <Th>Snapshots</Th>
          <Th>Keep</Th>
          <Th>On rollback</Th>
          <Th>Service</Th>
        </tr>
      </thead>
      <TBody>
        {units.map((u) => (
          <tr key={u.name} data-testid={`unit-${u.name}`}>
            <Td className="font-medium">{u.name}</Td>
            <Td>
              <Badge>{KIND_LABELS[u.kind]}</Badge>
            </Td>
            <Td className="max-w-xs truncate font-mono text-xs">
              <span title={describeUnit(u)}>{describeUnit(u)}</span>
            </Td>
            <Td className={u.snapshot === 'never' ? 'text-slate-400' : undefined}>{SNAPSHOT_POLICY_LABELS[u.snapshot]}</Td>
            <Td className="tabular-nums">
              <span data-testid="unit-keep">{u.keep}</span>
            </Td>
            <Td>{u.restoreOnRollback ? <Badge tone="blue">restored</Badge> : <span className="text-slate-400">left as is</span>}</Td>
            <Td className="font-mono text-xs">{u.service ?? <span className="font-sans text-slate-400">—</span>}</Td>
          </tr>
        ))}
      </TBody>
    </Table>
  );
}

/** What to write in a host module to declare state, for a host that declares none. */
export const STATE_EXAMPLE = `flotilla.state.uploads = {
  kind = "directory";
  path = "/var/lib/myapp/uploads";
  service = "myapp.service";   # stopped around a restore
  keep = 5;                    # snapshots kept on the host
  restoreOnRollback = true;
};

flotilla.state.db = {
  kind = "postgresql";         # or "mysql"
  database = "myapp";
  snapshot = "service-change"; # "every-switch" (default) or "never"
};`;
