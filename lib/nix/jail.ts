// The filesystem an evaluation of operator code sees. Nix evaluates as the user Flotilla
// runs as (root, or Flotilla's own user with a daemon), outside any sandbox, and pure
// evaluation does not stop every read of the host: `builtins.fetchTree { type = "path";
// path = "/any/dir"; narHash = …; }` copies any directory into the store, and
// `builtins.fetchurl "file:///…"` any file. So the `nix` that evaluates a host's modules
// runs chrooted into a root made of bind mounts of what Nix needs: /nix, the system's
// programs and libraries, a few files of /etc, the build's own directory and the nixpkgs
// source. The data directory, home directories, /etc/shadow, /run and the other
// processes (their environments hold AUTH_SECRET) are not there.
// docs/decisions/0018-build-sandbox.md.

/** What Nix itself needs from the host: programs, libraries, devices, its store, name lookups and certificates. */
const SYSTEM_PATHS = [
  '/nix',
  '/usr',
  '/bin',
  '/sbin',
  '/lib',
  '/lib32',
  '/lib64',
  '/libx32',
  '/dev',
  '/etc/nix',
  '/etc/static',
  '/etc/passwd',
  '/etc/group',
  '/etc/ssl',
  '/etc/ca-certificates',
  '/etc/pki',
  '/etc/resolv.conf',
  '/etc/hosts',
  '/etc/nsswitch.conf',
  '/etc/localtime',
  '/etc/services',
  '/etc/protocols',
];

/**
 * Runs as the first process of new mount and PID namespaces (root of them, through
 * unshare): mounts a tmpfs on $1, a new /proc (this namespace's processes only) and $2
 * as /tmp in it, binds each listed path at the same place inside it and each mapped
 * directory at its place (`from` `to` pairs), then execs the command
 * chrooted there. A symbolic link is copied as a link, and what it points to is bound too.
 */
const SCRIPT = `set -eu
R=$1; T=$2; n=$3; m=$4; shift 4
mount -t tmpfs -o mode=0755 flotilla-jail "$R"
expose() {
  [ -e "$1" ] || [ -L "$1" ] || return 0
  [ -e "$R$1" ] || [ -L "$R$1" ] && return 0
  mkdir -p "$R$(dirname "$1")"
  if [ -L "$1" ]; then
    ln -s "$(readlink "$1")" "$R$1"
    expose "$(readlink -f "$1")"
  elif [ -d "$1" ]; then
    mkdir -p "$R$1"; mount --rbind "$1" "$R$1"
  else
    : > "$R$1"; mount --bind "$1" "$R$1"
  fi
}
# /tmp first: a path to expose may lie under it (the data directory of a test).
mkdir -p "$R/proc" "$R/tmp"
mount -t proc proc "$R/proc"
mount --bind "$T" "$R/tmp"
i=0
while [ "$i" -lt "$n" ]; do expose "$1"; shift; i=$((i + 1)); done
i=0
while [ "$i" -lt "$m" ]; do mkdir -p "$R$2"; mount --bind "$1" "$R$2"; shift 2; i=$((i + 1)); done
program=$(readlink -f "$(command -v "$1")"); shift
exec chroot "$R" "$program" "$@"
`;

export type Jail = {
  /** An empty directory to build the root on (it is a mount point only inside the namespace). */
  mountpoint: string;
  /** An empty directory, on disk, that is /tmp inside: Nix's build directories go there. */
  tmp: string;
  /** Paths the command needs besides the system's, at the same place: the nixpkgs source, Nix's cache. */
  paths: string[];
  /** Directories shown at another place, so that no skeleton of the directories around them appears (the build's flake lives in the data directory). */
  mapped?: { from: string; to: string }[];
};

/** `unshare` arguments that run `program args…` in the jail; `isolated` adds an empty network namespace. */
export function jailArgs(jail: Jail, program: string, args: string[], opts: { root: boolean; isolated: boolean }): string[] {
  const paths = [...SYSTEM_PATHS, ...jail.paths];
  return [
    // Anyone but root makes the namespaces inside a user namespace where it is root:
    // util-linux's mount refuses any other uid ("must be superuser to use mount"), even
    // with the namespace's capabilities. A nix-daemon still sees the caller's real uid.
    ...(opts.root ? [] : ['--map-root-user']),
    '--mount',
    '--propagation',
    'private',
    '--pid',
    '--kill-child',
    ...(opts.isolated ? ['--net'] : []),
    '--',
    '/bin/sh',
    '-c',
    SCRIPT,
    'flotilla-jail',
    jail.mountpoint,
    jail.tmp,
    String(paths.length),
    String(jail.mapped?.length ?? 0),
    ...paths,
    ...(jail.mapped ?? []).flatMap((m) => [m.from, m.to]),
    program,
    ...args,
  ];
}
