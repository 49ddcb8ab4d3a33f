// flotilla: the command line for people and CI. USAGE below is the reference.
import { parseArgs } from 'node:util';
import { ZBuildStream, type TBuildStatusEvent } from '@/lib/api/streams';
import { api, CliError, followEvents, loadConfig, saveConfig, type CliConfig } from './client';
import { control, deploy, status, type RolloutFlags } from './deployments';
import { push } from './push';

const out = (line: string) => process.stdout.write(`${line}\n`);

const USAGE = `usage:
  flotilla login --server URL --email E       log in (password from FLOTILLA_PASSWORD or stdin); saves a token
  flotilla hosts                              list the hosts
  flotilla hosts revoke NAME                  end the host's credential: its agent is disconnected and must enrol again
  flotilla hosts retire NAME                  retire the host: history kept, agent disconnected, name freed
  flotilla build HOST                         build its current config, follow the build; exit 1 if it fails
  flotilla push PATH… [--secret-key FILE] [--compression xz|zstd|none]
                                              copy closures from this machine's Nix store into the
                                              fleet's cache (token with cache.write); skips what it has
  flotilla deploy deploy.json [--async] [--canaries N] [--max-in-flight N|P%] [--max-failures N|P%]
                [--watch SECONDS] [--on-failure halt|rollback-all] [--offline wait|skip]
                                              follow every host; exit 1 if any fails
  flotilla status DEPLOYMENT_ID
  flotilla pause|resume|cancel DEPLOYMENT_ID
  flotilla rollback DEPLOYMENT_ID [--async]   follow the rollback deployment
  flotilla token create --name N --scopes a,b [--days D] [--host-tags t1,t2]
  flotilla --help

Instead of logging in, CI can set FLOTILLA_SERVER and FLOTILLA_TOKEN.`;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').trim();
}

async function login(values: Record<string, string | boolean | undefined>) {
  const server = String(values.server ?? '');
  const email = String(values.email ?? '');
  if (!server || !email) throw new CliError('usage: flotilla login --server URL --email you@example.com');
  const password = process.env.FLOTILLA_PASSWORD ?? (await readStdin());
  const basic = `Basic ${Buffer.from(`${email}:${password}`).toString('base64')}`;
  const created = await api<{ token: string }>({ server, token: 'none-yet-0' }, 'POST', '/tokens', { name: `flotilla CLI on ${process.env.HOSTNAME ?? 'this machine'}`, scopes: await grantable(server, basic), expiresInDays: 90 }, basic);
  const file = await saveConfig({ server, token: created.token });
  out(`logged in to ${server}; token saved in ${file}`);
}

/** Everything the account may do, so the CLI token is as capable as its owner. */
async function grantable(server: string, basic: string): Promise<string[]> {
  const me = await api<{ permissions: string[] }>({ server, token: 'none-yet-0' }, 'GET', '/me', undefined, basic).catch(() => null);
  return me?.permissions ?? ['fleet.read', 'tokens.own'];
}

async function build(config: CliConfig, host: string) {
  const { buildId, reused } = await api<{ buildId: string; reused: boolean }>(config, 'POST', `/hosts/${encodeURIComponent(host)}/builds`);
  out(`build ${buildId}${reused ? ' (identical inputs: reusing it)' : ''}`);
  let status = '';
  // Written by the stream's callback (a property, so the compiler does not assume it stayed empty).
  const last: { status?: TBuildStatusEvent } = {};
  await followEvents(config, `/builds/${buildId}/events`, ZBuildStream, (e) => {
    if (e.event === 'log') process.stdout.write(e.data.text);
    if (e.event === 'status') {
      last.status = e.data;
      const { progress } = e.data;
      const line = `[${e.data.status}${progress?.stage ? ` · ${progress.stage}` : ''}${progress?.builds?.expected ? ` · ${progress.builds.done}/${progress.builds.expected} derivations` : ''}]`;
      if (line !== status) process.stderr.write(`${line}\n`);
      status = line;
    }
  });
  const final = last.status;
  if (final?.status === 'succeeded') {
    out(final.storePath ?? '');
    return 0;
  }
  out(`build ${final?.status ?? 'ended'}${final?.error ? `:\n${final.error}` : ''}`);
  return 1;
}

/** Both cut the host's agent off at once, on whichever server holds its socket. */
async function hostAction(config: CliConfig, what: 'revoke' | 'retire', name: string | undefined) {
  if (!name) throw new CliError(`usage: flotilla hosts ${what} NAME`);
  const path = `/hosts/${encodeURIComponent(name)}`;
  if (what === 'revoke') {
    await api(config, 'DELETE', `${path}/credential`);
    out(`${name}: credential revoked; its agent was disconnected and must enrol again with a new enroll token`);
  } else {
    await api(config, 'DELETE', path);
    out(`${name}: retired; its agent was disconnected and its name is free`);
  }
  return 0;
}

const OPTIONS = {
  server: { type: 'string' },
  email: { type: 'string' },
  async: { type: 'boolean' },
  name: { type: 'string' },
  scopes: { type: 'string' },
  days: { type: 'string' },
  'host-tags': { type: 'string' },
  canaries: { type: 'string' },
  'max-in-flight': { type: 'string' },
  'max-failures': { type: 'string' },
  watch: { type: 'string' },
  'on-failure': { type: 'string' },
  offline: { type: 'string' },
  'secret-key': { type: 'string' },
  compression: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function parseCommandLine() {
  try {
    return parseArgs({ allowPositionals: true, options: OPTIONS });
  } catch (error) {
    // An unknown or malformed option: say which, and how it is used, not a stack trace.
    throw new CliError(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
  }
}

async function main(): Promise<number> {
  const { positionals, values } = parseCommandLine();
  const [command, arg] = positionals;
  // Before anything that needs a login: help is for people who have none yet.
  if (values.help || command === 'help') {
    out(USAGE);
    return 0;
  }
  if (!command) throw new CliError(USAGE);
  if (command === 'login') {
    await login(values);
    return 0;
  }
  const config = await loadConfig();
  switch (command) {
    case 'hosts': {
      if (arg === 'revoke' || arg === 'retire') return hostAction(config, arg, positionals[2]);
      if (arg) throw new CliError('usage: flotilla hosts [revoke NAME | retire NAME]');
      const { hosts } = await api<{ hosts: { name: string; status: string; tags: string[]; currentSystem: string | null }[] }>(config, 'GET', '/hosts?pageSize=500');
      for (const h of hosts) out(`${h.name.padEnd(24)} ${h.status.padEnd(11)} ${h.tags.join(',').padEnd(20)} ${h.currentSystem ?? '-'}`);
      return 0;
    }
    case 'build':
      if (!arg) throw new CliError('usage: flotilla build HOST');
      return build(config, arg);
    case 'push':
      return push(config, positionals.slice(1), { secretKey: values['secret-key'], compression: values.compression });
    case 'deploy':
      if (!arg) throw new CliError('usage: flotilla deploy deploy.json [--async] [--canaries N] [--max-in-flight N|P%] …');
      return deploy(config, arg, { async: Boolean(values.async), flags: values as RolloutFlags });
    case 'status':
      if (!arg) throw new CliError('usage: flotilla status DEPLOYMENT_ID');
      return status(config, arg);
    case 'pause':
    case 'resume':
    case 'cancel':
    case 'rollback':
      if (!arg) throw new CliError(`usage: flotilla ${command} DEPLOYMENT_ID`);
      return control(config, command, arg, { async: Boolean(values.async) });
    case 'token': {
      if (arg !== 'create' || !values.name || !values.scopes) throw new CliError('usage: flotilla token create --name N --scopes a,b [--days D] [--host-tags t1,t2]');
      const created = await api<{ token: string }>(config, 'POST', '/tokens', {
        name: values.name,
        scopes: String(values.scopes).split(','),
        ...(values.days ? { expiresInDays: Number(values.days) } : {}),
        ...(values['host-tags'] ? { hostTags: String(values['host-tags']).split(',') } : {}),
      });
      out(created.token);
      return 0;
    }
    default:
      throw new CliError(`unknown command ${command}\n\n${USAGE}`);
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`flotilla: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(error instanceof CliError ? 2 : 1);
  },
);
