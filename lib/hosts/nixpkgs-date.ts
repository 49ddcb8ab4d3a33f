// When a host's nixpkgs was cut, read from the NixOS version its agent reports:
// `24.05.20240605.abcdef0` carries the date; a bare release (`24.11`) counts as the last
// day of its release month. The in-repo stand-in (`24.11.standin`) is test data, not a
// nixpkgs that ages: dating it flagged every host of a fresh install "outdated nixpkgs".
// Anything else is unknown (null).
export function nixpkgsDate(nixosVersion: string | null | undefined): string | null {
  if (!nixosVersion) return null;
  if (/^\d\d\.\d\d\.standin\b/.test(nixosVersion)) return null;
  const dated = /^\d\d\.\d\d\.(\d{4})(\d{2})(\d{2})\b/.exec(nixosVersion);
  if (dated) return validDate(Number(dated[1]), Number(dated[2]), Number(dated[3]));
  const release = /^(\d\d)\.(\d\d)(?:\D|$)/.exec(nixosVersion);
  if (!release) return null;
  const year = 2000 + Number(release[1]);
  const month = Number(release[2]);
  if (month < 1 || month > 12) return null;
  return new Date(Date.UTC(year, month, 0)).toISOString().slice(0, 10);
}

function validDate(year: number, month: number, day: number): string | null {
  const d = new Date(Date.UTC(year, month - 1, day));
  return d.getUTCFullYear() === year && d.getUTCMonth() === month - 1 && d.getUTCDate() === day ? d.toISOString().slice(0, 10) : null;
}
