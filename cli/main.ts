// flotilla: the command line for people and CI.
//   flotilla login --server URL --email E      (password from FLOTILLA_PASSWORD or stdin)
//   flotilla hosts
//   flotilla build HOST                        (follows the build; exit 1 if it fails)
//   flotilla deploy deploy.json [--async]      (follows every host; exit 1 if any fails)
//   flotilla status DEPLOYMENT_ID
//   flotilla token create --name N --scopes a,b [--days D]
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { isFinalDeployment, ZCreateDeployment } from '@/lib/deployments/schemas';
import { api, CliError, followEvents, loadConfig, saveConfig, type CliConfig } from './client';

type Deployment = { id: string; status: string; targets: { host: string; phase: string; error: string | null; rollbackReason: string | null }[] };
const out = (line: string) => process.stdout.write(`${line}\n`);

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

function printTargets(d: Deployment, seen: Map<string, string>) {
  for (const t of d.targets) {
    if (seen.get(t.host) === t.phase) continue;
    seen.set(t.host, t.phase);
    const why = (t.rollbackReason ?? t.error ?? '').split('\n')[0];
    out(`${t.host.padEnd(24)} ${t.phase}${why ? `: ${why}` : ''}`);
  }
}

function outcome(d: Deployment): number {
  const bad = d.targets.filter((t) => !['succeeded', 'skipped'].includes(t.phase));
  out(`deployment ${d.id} ${d.status}: ${d.targets.length - bad.length}/${d.targets.length} hosts succeeded`);
  return d.status === 'succeeded' && bad.length === 0 ? 0 : 1;
}

async function deploy(config: CliConfig, file: string, async: boolean) {
  let body: unknown;
  try {
    body = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as Error).message}`);
  }
  // Checked here first, so a malformed file fails before anything is sent.
  const parsed = ZCreateDeployment.safeParse(body);
  if (!parsed.success) throw new CliError(`${file}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`).join('; ')}`);
  const created = await api<{ id: string; url: string }>(config, 'POST', '/deployments', parsed.data);
  out(`deployment ${created.id} started: ${created.url}`);
  if (async) return 0;
  const seen = new Map<string, string>();
  let last: Deployment | null = null;
  await followEvents(config, `/deployments/${created.id}/events`, (event, data) => {
    if (event !== 'deployment') return;
    last = data as Deployment;
    printTargets(last, seen);
  });
  if (!last) throw new CliError('the server ended the progress stream without a status');
  return outcome(last);
}

async function build(config: CliConfig, host: string) {
  const { buildId, reused } = await api<{ buildId: string; reused: boolean }>(config, 'POST', `/hosts/${encodeURIComponent(host)}/builds`);
  out(`build ${buildId}${reused ? ' (identical inputs: reusing it)' : ''}`);
  let status = '';
  let result: { status: string; storePath: string | null; error: string | null } | null = null;
  await followEvents(config, `/builds/${buildId}/events`, (event, data) => {
    if (event === 'log') process.stdout.write((data as { text: string }).text);
    if (event === 'status') {
      result = data as typeof result;
      const progress = (data as { progress?: { stage?: string; builds?: { done: number; expected: number } } }).progress;
      const line = `[${result?.status}${progress?.stage ? ` · ${progress.stage}` : ''}${progress?.builds?.expected ? ` · ${progress.builds.done}/${progress.builds.expected} derivations` : ''}]`;
      if (line !== status) process.stderr.write(`${line}\n`);
      status = line;
    }
  });
  const final = result as { status: string; storePath: string | null; error: string | null } | null;
  if (final?.status === 'succeeded') {
    out(final.storePath ?? '');
    return 0;
  }
  out(`build ${final?.status ?? 'ended'}${final?.error ? `:\n${final.error}` : ''}`);
  return 1;
}

async function main(): Promise<number> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { server: { type: 'string' }, email: { type: 'string' }, async: { type: 'boolean' }, name: { type: 'string' }, scopes: { type: 'string' }, days: { type: 'string' } },
  });
  const [command, arg] = positionals;
  if (command === 'login') {
    await login(values);
    return 0;
  }
  const config = await loadConfig();
  switch (command) {
    case 'hosts': {
      const { hosts } = await api<{ hosts: { name: string; status: string; tags: string[]; currentSystem: string | null }[] }>(config, 'GET', '/hosts?pageSize=500');
      for (const h of hosts) out(`${h.name.padEnd(24)} ${h.status.padEnd(11)} ${h.tags.join(',').padEnd(20)} ${h.currentSystem ?? '-'}`);
      return 0;
    }
    case 'build':
      if (!arg) throw new CliError('usage: flotilla build HOST');
      return build(config, arg);
    case 'deploy':
      if (!arg) throw new CliError('usage: flotilla deploy deploy.json [--async]');
      return deploy(config, arg, Boolean(values.async));
    case 'status': {
      if (!arg) throw new CliError('usage: flotilla status DEPLOYMENT_ID');
      const d = await api<Deployment>(config, 'GET', `/deployments/${encodeURIComponent(arg)}`);
      printTargets(d, new Map());
      return isFinalDeployment(d.status) ? outcome(d) : (out(`deployment ${d.id} ${d.status}`), 0);
    }
    case 'token': {
      if (arg !== 'create' || !values.name || !values.scopes) throw new CliError('usage: flotilla token create --name N --scopes a,b [--days D]');
      const created = await api<{ token: string }>(config, 'POST', '/tokens', {
        name: values.name,
        scopes: String(values.scopes).split(','),
        ...(values.days ? { expiresInDays: Number(values.days) } : {}),
      });
      out(created.token);
      return 0;
    }
    default:
      throw new CliError('usage: flotilla login | hosts | build HOST | deploy deploy.json [--async] | status ID | token create');
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`flotilla: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(error instanceof CliError ? 2 : 1);
  },
);
