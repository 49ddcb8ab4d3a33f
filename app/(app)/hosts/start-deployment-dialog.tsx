'use client';

// Start a deployment of the selected hosts (or of one build to its host): the strategy prefilled from the
// organisation's defaults (the first preview answers the strategy in force), what to
// deploy, and a live preview of the waves as the fields change.
import clsx from 'clsx';
import { useRouter } from 'next/navigation';
import { useEffect, useRef, useState, useTransition } from 'react';
import { previewDeploymentAction, startDeploymentAction } from '@/app/(app)/deployments/actions';
import { Button } from '@/components/ui/button';
import { FormError } from '@/components/ui/form';
import type { TRollout } from '@/lib/db/json-types';
import type { TWavePlan } from '@/lib/deployments/schemas';
import { formatSeconds, waveLabel } from '@/components/deployments/format';
import { Modal } from '@/components/ui/modal';
import { fieldsFrom, serverFieldErrors, StrategyFieldset, toRollout, type FieldErrors, type StrategyFields } from '@/components/deployments/strategy-fields';

const PREVIEW_DELAY_MS = 350;

type Preview = { plan: TWavePlan | null; error?: string; loading: boolean };

function WavePreview({ preview, strategy }: { preview: Preview; strategy: TRollout | null }) {
  const { plan } = preview;
  if (!plan) return <p className="text-sm text-slate-500">{preview.loading ? 'Planning…' : 'No plan yet.'}</p>;
  const total = plan.waves.reduce((n, w) => n + w.hosts.length, 0);
  const offline = plan.waves.flatMap((w) => w.hosts).filter((h) => !h.online).length;
  const windowed = plan.waves.flatMap((w) => w.hosts).filter((h) => h.window).length;
  return (
    <div className={clsx('space-y-3 transition-opacity', preview.loading && 'opacity-60')} data-testid="wave-preview" aria-busy={preview.loading}>
      <p className="text-xs text-slate-500 dark:text-slate-400">
        For {total} {total === 1 ? 'host' : 'hosts'}: {plan.limits.canaries} {plan.limits.canaries === 1 ? 'canary' : 'canaries'}, {plan.limits.maxInFlight} at a time, {plan.limits.maxFailures}{' '}
        {plan.limits.maxFailures === 1 ? 'failure' : 'failures'} tolerated.
      </p>
      <ol className="space-y-2">
        {plan.waves.map((w) => (
          <li key={w.wave} data-testid={`preview-wave-${w.wave}`} className="rounded-md bg-slate-50 px-3 py-2 ring-1 ring-inset ring-slate-200 dark:bg-slate-800/50 dark:ring-slate-700">
            <div className="flex items-baseline justify-between gap-2">
              <span className="text-sm font-semibold">{waveLabel(w.wave)}</span>
              <span className="text-xs tabular-nums text-slate-500 dark:text-slate-400">
                {w.hosts.length} {w.hosts.length === 1 ? 'host' : 'hosts'}
              </span>
            </div>
            <ul className="mt-1.5 flex flex-wrap gap-1.5">
              {w.hosts.map((h) => (
                <li
                  key={h.name}
                  title={[h.online ? 'online' : 'offline', h.window].filter(Boolean).join('; ')}
                  className="inline-flex items-center gap-1.5 rounded-full bg-white px-2 py-0.5 text-xs ring-1 ring-inset ring-slate-200 dark:bg-slate-900 dark:ring-slate-700"
                >
                  <span className={clsx('h-1.5 w-1.5 rounded-full', h.online ? 'bg-emerald-500' : 'bg-slate-400')} aria-hidden />
                  <span className="font-medium">{h.name}</span>
                  {!h.online ? <span className="text-slate-500 dark:text-slate-400">offline</span> : null}
                  {h.window ? <span className="text-amber-700 dark:text-amber-300">waits for its window</span> : null}
                </li>
              ))}
            </ul>
          </li>
        ))}
      </ol>
      {offline && strategy ? (
        <p className="text-xs text-slate-600 dark:text-slate-400">
          {offline} offline: {strategy.offlineHosts === 'skip' ? 'skipped when their turn comes.' : `they go when their agent is back, for up to ${formatSeconds(strategy.offlineDeadlineSeconds)}.`}
        </p>
      ) : null}
      {windowed ? <p className="text-xs text-amber-700 dark:text-amber-300">{windowed} outside their maintenance window now: they wait for it, later waves do not.</p> : null}
    </div>
  );
}

function BuildChoice({ build, onChange }: { build: boolean; onChange: (build: boolean) => void }) {
  const option = (value: boolean, title: string, hint: string) => (
    <label
      className={clsx(
        'flex cursor-pointer items-start gap-2.5 rounded-md px-3 py-2 ring-1 ring-inset',
        build === value ? 'bg-brand-50 ring-brand-600 dark:bg-blue-950/40 dark:ring-blue-500' : 'ring-slate-200 hover:bg-slate-50 dark:ring-slate-700 dark:hover:bg-slate-800/50',
      )}
    >
      <input type="radio" name="deploy-what" className="mt-1" checked={build === value} onChange={() => onChange(value)} />
      <span>
        <span className="block text-sm font-medium">{title}</span>
        <span className="block text-xs text-slate-500 dark:text-slate-400">{hint}</span>
      </span>
    </label>
  );
  return (
    <fieldset>
      <legend className="mb-1.5 text-sm font-medium text-slate-700 dark:text-slate-300">What to deploy</legend>
      <div className="grid gap-2 sm:grid-cols-2">
        {option(true, 'Build from current config', 'Builds what is not built yet; the rollout starts when every build is done.')}
        {option(false, 'Newest successful build', 'Each host’s newest good build, as it is. Hosts never built are refused.')}
      </div>
    </fieldset>
  );
}

/** One given build for one host (the host page, a build's page): shown instead of the choice of what to deploy. */
function GivenSystem({ storePath }: { storePath: string }) {
  return (
    <div>
      <p className="mb-1.5 text-sm font-medium text-slate-700 dark:text-slate-300">What to deploy</p>
      <p className="break-all rounded-md bg-slate-50 px-3 py-2 font-mono text-xs ring-1 ring-inset ring-slate-200 dark:bg-slate-800/50 dark:ring-slate-700" data-testid="deploy-system">
        {storePath}
      </p>
    </div>
  );
}

export function StartDeploymentDialog({ hosts, system, onClose }: { hosts: string[]; system?: { storePath: string }; onClose: () => void }) {
  const router = useRouter();
  const [build, setBuild] = useState(true);
  // What is deployed, in the request's own shape: deploy.json's for a given system, else hosts built now or from their newest build.
  const target = system ? { agents: Object.fromEntries(hosts.map((h) => [h, system.storePath])) } : { hosts, build };
  // The strategy in force before any change: what the fields start from, and what keeps the windows.
  const [base, setBase] = useState<TRollout | null>(null);
  const [fields, setFields] = useState<StrategyFields | null>(null);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [preview, setPreview] = useState<Preview>({ plan: null, loading: true });
  const [starting, start] = useTransition();
  const [startError, setStartError] = useState<string>();
  const latest = useRef(0);

  // First: the organisation's defaults, by asking for a plan with no strategy of our own.
  useEffect(() => {
    let live = true;
    void previewDeploymentAction(null, target).then((result) => {
      if (!live || !result) return;
      // Refused here (a host gone, a scope too narrow) means refused on Start too: say why and offer no fields.
      if (!result.ok) return setPreview({ plan: null, loading: false, error: result.error.message });
      setBase(result.data.strategy);
      setFields(fieldsFrom(result.data.strategy));
      setPreview({ plan: result.data, loading: false });
    });
    return () => {
      live = false;
    };
    // Only once: later changes go through the debounced preview below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  const planned = fields && base ? toRollout(fields, base) : null;
  const request = planned ? JSON.stringify({ ...target, rollout: planned.rollout }) : null;

  // Then: a new plan whenever the fields settle, the newest answer winning. When the input
  // changes, its own errors show (or the preview is marked loading) in this render already.
  const [seen, setSeen] = useState<string | null>(null);
  if (planned && request && request !== seen) {
    setSeen(request);
    if (Object.keys(planned.errors).length) setErrors(planned.errors);
    else setPreview((p) => ({ ...p, loading: true }));
  }
  useEffect(() => {
    if (!planned || !request || Object.keys(planned.errors).length) return;
    const ticket = ++latest.current;
    const timer = setTimeout(() => {
      void previewDeploymentAction(null, { ...target, rollout: planned.rollout }).then((result) => {
        if (ticket !== latest.current || !result) return;
        if (result.ok) {
          setErrors({});
          setPreview({ plan: result.data, loading: false });
        } else {
          const fieldErrors = serverFieldErrors(result.error.fields);
          setErrors(fieldErrors);
          setPreview((p) => ({ ...p, loading: false, error: Object.keys(fieldErrors).length ? undefined : result.error.message }));
        }
      });
    }, PREVIEW_DELAY_MS);
    return () => clearTimeout(timer);
    // `request` is the whole input as a string: the effect runs when it changes, not on every render.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [request]);

  const invalid = !planned || Object.keys(errors).length > 0 || Object.keys(planned.errors).length > 0;

  function startIt() {
    if (!planned || invalid) return;
    setStartError(undefined);
    start(async () => {
      const result = await startDeploymentAction(null, { ...target, rollout: planned.rollout });
      if (result?.ok) router.push(`/deployments/${result.data.id}`);
      else if (result) {
        const fieldErrors = serverFieldErrors(result.error.fields);
        setErrors(fieldErrors);
        if (!Object.keys(fieldErrors).length) setStartError(result.error.message);
      }
    });
  }

  return (
    <Modal
      width="wide"
      title={`Deploy to ${hosts.length} ${hosts.length === 1 ? 'host' : 'hosts'}`}
      description={<span className="font-mono text-xs">{hosts.length <= 8 ? hosts.join(', ') : `${hosts.slice(0, 8).join(', ')} and ${hosts.length - 8} more`}</span>}
      onClose={onClose}
      footer={
        <>
          <Button variant="secondary" onClick={onClose} disabled={starting}>
            Cancel
          </Button>
          <Button onClick={startIt} disabled={invalid || starting || preview.loading}>
            {starting ? 'Starting…' : 'Start deployment'}
          </Button>
        </>
      }
    >
      <div className="space-y-5">
        <FormError message={startError ?? preview.error} />
        {system ? <GivenSystem storePath={system.storePath} /> : <BuildChoice build={build} onChange={setBuild} />}
        <div className="grid gap-6 lg:grid-cols-[minmax(0,1.3fr)_minmax(0,1fr)]">
          <section aria-label="Strategy">
            <h3 className="mb-3 text-sm font-semibold">Strategy</h3>
            {fields ? (
              <StrategyFieldset idPrefix="deploy" value={fields} errors={errors} onChange={setFields} disabled={starting} />
            ) : (
              <p className="text-sm text-slate-500">{preview.loading ? 'Loading the fleet’s defaults…' : 'Not available.'}</p>
            )}
          </section>
          <section aria-label="Preview" className="lg:border-l lg:border-slate-200 lg:pl-6 dark:lg:border-slate-800">
            <h3 className="mb-3 text-sm font-semibold">Preview</h3>
            <WavePreview preview={preview} strategy={planned?.rollout ?? base} />
          </section>
        </div>
      </div>
    </Modal>
  );
}
