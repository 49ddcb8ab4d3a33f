// The environment a Nix command gets: an allow-list, never Flotilla's own environment.
// Flotilla's environment holds AUTH_SECRET, DATABASE_URL, the SMTP and S3 credentials;
// Nix needs none of them, and evaluation or a build hook must never see them
// (docs/decisions/0018-build-sandbox.md).

/** What Nix may need from the environment: where it finds programs, caches, certificates, proxies and its daemon. */
const PASSED = [
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'LANG',
  'LC_ALL',
  'LC_CTYPE',
  'TZ',
  'TMPDIR',
  'XDG_CACHE_HOME',
  'XDG_CONFIG_HOME',
  'XDG_DATA_HOME',
  'XDG_STATE_HOME',
  'XDG_RUNTIME_DIR',
  // A nix-daemon (NIX_REMOTE=daemon) is one way to give builds their build users.
  'NIX_REMOTE',
  'NIX_CONF_DIR',
  'NIX_USER_CONF_FILES',
  'NIX_SSL_CERT_FILE',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'CURL_CA_BUNDLE',
  // Fetching a real nixpkgs behind a proxy.
  'http_proxy',
  'https_proxy',
  'ftp_proxy',
  'all_proxy',
  'no_proxy',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'ALL_PROXY',
  'NO_PROXY',
] as const;

/** The allow-listed part of `source`, plus what the caller adds for this one command. */
export function nixEnvironment(extra: Record<string, string> = {}, source: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const passed: Record<string, string> = {};
  for (const name of PASSED) {
    const value = source[name];
    if (value !== undefined) passed[name] = value;
  }
  // NODE_ENV is no secret, and Node's types want it on every child environment.
  return { NODE_ENV: source.NODE_ENV, ...passed, ...extra };
}
