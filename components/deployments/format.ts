// Words and numbers for deployments, shared by the server pages and the live client
// parts, so a value reads the same before and after the first live update. Client
// components import this file: nothing here may reach server-only code.

/** "0.8 s", "42 s", "3 min 05 s", "2 h 07 min". */
export function formatDuration(ms: number): string {
  if (ms < 0) ms = 0;
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

/** Seconds as a person would set them: "60 s", "5 min", "24 h", "7 d". */
export function formatSeconds(seconds: number): string {
  // Up to three days reads better in hours ("wait 24 h").
  if (seconds % 86_400 === 0 && seconds > 3 * 86_400) return `${seconds / 86_400} d`;
  if (seconds % 3600 === 0 && seconds >= 3600) return `${seconds / 3600} h`;
  if (seconds % 60 === 0 && seconds >= 120) return `${seconds / 60} min`;
  return `${seconds} s`;
}

/** Times are shown in UTC on the server and the client alike (no hydration mismatch, one clock for the team). */
export function formatTime(iso: string | null): string {
  return iso ? `${iso.slice(0, 19).replace('T', ' ')} UTC` : '—';
}

/** `/nix/store/<hash>-nixos-system-web-1-24.11` → {hash: first 7 of the hash, name: "nixos-system-web-1-24.11"}. */
export function shortSystem(storePath: string): { hash: string; name: string } {
  const base = storePath.replace(/^\/nix\/store\//, '');
  return { hash: base.slice(0, 7), name: base.slice(33) };
}

export const waveLabel = (wave: number) => (wave === 0 ? 'Canaries' : `Wave ${wave}`);
