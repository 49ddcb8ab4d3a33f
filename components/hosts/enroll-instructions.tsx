'use client';

export function EnrollInstructions({ token, expiresAt }: { token: string; expiresAt: string }) {
  const server = typeof window === 'undefined' ? '' : window.location.origin;
  return (
    <div className="rounded-md bg-emerald-50 p-4 text-sm text-emerald-900 ring-1 ring-emerald-200 dark:bg-emerald-950/50 dark:text-emerald-200 dark:ring-emerald-900">
      <p className="font-medium">Enroll token: shown once, valid until {new Date(expiresAt).toUTCString()}.</p>
      <input
        readOnly
        aria-label="Enroll token"
        data-testid="enroll-token"
        value={token}
        className="mt-2 w-full rounded bg-white px-2 py-1 font-mono text-xs dark:bg-slate-900"
        onFocus={(e) => e.target.select()}
      />
      <p className="mt-3">On the machine, as root:</p>
      <pre className="mt-1 overflow-x-auto rounded bg-slate-900 p-2 font-mono text-xs text-slate-100">
        flotilla-agent enroll --server {server} --token {token}
      </pre>
    </div>
  );
}
