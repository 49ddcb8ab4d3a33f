'use client';

import { CopyBlock, CopyButton } from '@/components/ui/copy-button';
import { enrollCommand, simulatedHostCommands, type TSimulation } from '@/lib/hosts/enroll-commands';

export function EnrollInstructions({ host, token, expiresAt, simulation }: { host: string; token: string; expiresAt: string; simulation: TSimulation | null }) {
  // The address this page was reached at is the one the agent can reach too.
  const server = typeof window === 'undefined' ? '' : window.location.origin;
  return (
    <div className="space-y-3 rounded-md bg-emerald-50 p-4 text-sm text-emerald-900 ring-1 ring-emerald-200 dark:bg-emerald-950/50 dark:text-emerald-200 dark:ring-emerald-900">
      <p className="font-medium">Enroll token: shown once, valid until {new Date(expiresAt).toUTCString()}.</p>
      <div className="flex items-center gap-2">
        <input
          readOnly
          aria-label="Enroll token"
          data-testid="enroll-token"
          value={token}
          className="min-w-0 flex-1 rounded bg-white px-2 py-1 font-mono text-xs dark:bg-slate-900"
          onFocus={(e) => e.target.select()}
        />
        <CopyButton text={token} label="Copy enroll token" />
      </div>
      <div>
        <p>On the machine, as root (the agent keeps its credential in /var/lib/flotilla-agent):</p>
        <CopyBlock text={enrollCommand(server, token)} label="Copy enroll command" testId="enroll-command" />
      </div>
      {simulation ? (
        <div>
          <p>
            Or try it on the machine running Flotilla: a simulated host, with a state directory and a Nix store of its own (each simulated host needs its own
            directory, or it takes over the last one&apos;s credential). The last command keeps running: it is the host&apos;s agent; Ctrl-C stops it.
          </p>
          <CopyBlock text={simulatedHostCommands(server, token, host, simulation)} label="Copy simulated host commands" testId="simulate-commands" />
        </div>
      ) : null}
    </div>
  );
}
