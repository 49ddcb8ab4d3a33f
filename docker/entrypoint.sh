#!/bin/sh
# Runs as root, once per container: starts the nix-daemon, which builds as the nixbld
# users inside Nix's sandbox, then runs the command (npm start, or one role) as the
# user `flotilla` with NIX_REMOTE=daemon. Nothing of Flotilla runs as root.
set -eu

if [ "$(id -u)" != 0 ]; then
  # Started with --user: no daemon can be started; the worker's probe will say what builds lack.
  exec "$@"
fi

# A bind-mounted data directory may belong to root; Flotilla must be able to write it.
data="${FLOTILLA_DATA_DIR:-/var/lib/flotilla}"
mkdir -p "$data"
chown flotilla:flotilla "$data"

socket=/nix/var/nix/daemon-socket/socket
# A socket left in the /nix volume by the last container would end the wait below too early.
rm -f "$socket"
# In a subshell, so the daemon is adopted by tini (PID 1), which reaps it and its children;
# without NIX_REMOTE, since a daemon that has it set to `daemon` proxies to itself, endlessly.
(unset NIX_REMOTE; nix-daemon &)
tries=0
until [ -S "$socket" ]; do
  tries=$((tries + 1))
  if [ "$tries" -gt 100 ]; then
    echo "flotilla-entrypoint: nix-daemon did not open $socket within 10 s" >&2
    exit 1
  fi
  sleep 0.1
done

# For good: real, effective and saved ids, with flotilla's groups. The capability
# bounding set stays as it is: the evaluation jail needs root inside its own user namespace.
exec setpriv --reuid=flotilla --regid=flotilla --init-groups \
  env HOME=/home/flotilla USER=flotilla LOGNAME=flotilla "$@"
