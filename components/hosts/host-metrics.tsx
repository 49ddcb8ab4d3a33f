'use client';

// A host's vitals over the last days (hostMetricsSeries: hourly rollups, then the current
// hour's raw samples): free space on the Nix store, load, memory in use. Axis and grid
// colours come from Tailwind classes (currentColor), so light and dark both read.
import type { ReactElement } from 'react';
import { Area, AreaChart, CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { formatBytes } from '@/components/builds/build-status';

export type HostSample = { at: string; online: boolean; load1: number | null; memUsedBytes: number | null; memTotalBytes: number | null; storeFreeBytes: number | null; failedUnits: number | null };

const GIB = 1024 ** 3;
const day = new Intl.DateTimeFormat('en', { month: 'short', day: 'numeric', timeZone: 'UTC' });
const hour = new Intl.DateTimeFormat('en', { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false, timeZone: 'UTC' });

type Point = { t: number; storeFree: number | null; load: number | null; memPercent: number | null; memUsed: number | null; memTotal: number | null };

function points(samples: HostSample[]): Point[] {
  return samples.map((s) => ({
    t: Date.parse(s.at),
    storeFree: s.storeFreeBytes === null ? null : s.storeFreeBytes / GIB,
    load: s.load1,
    memPercent: s.memUsedBytes !== null && s.memTotalBytes ? (100 * s.memUsedBytes) / s.memTotalBytes : null,
    memUsed: s.memUsedBytes,
    memTotal: s.memTotalBytes,
  }));
}

type TipProps = { active?: boolean; label?: number; payload?: { payload: Point }[]; show: (p: Point) => string };

function Tip({ active, label, payload, show }: TipProps) {
  const p = payload?.[0]?.payload;
  if (!active || !p || label === undefined) return null;
  return (
    <div className="rounded-md bg-white px-2.5 py-1.5 text-xs shadow ring-1 ring-slate-200 dark:bg-slate-900 dark:ring-slate-700">
      <p className="font-medium text-slate-900 dark:text-slate-100">{hour.format(label)} UTC</p>
      <p className="text-slate-600 dark:text-slate-300">{show(p)}</p>
    </div>
  );
}

function Chart({ title, latest, testId, children }: { title: string; latest: string; testId: string; children: ReactElement }) {
  return (
    <figure data-testid={testId} className="min-w-0">
      <figcaption className="flex items-baseline justify-between gap-2 px-1 text-sm">
        <span className="font-medium">{title}</span>
        <span className="text-xs text-slate-500 dark:text-slate-400">now {latest}</span>
      </figcaption>
      <div className="mt-2 h-40 text-slate-400 dark:text-slate-500 [&_.recharts-cartesian-grid_line]:stroke-slate-200 dark:[&_.recharts-cartesian-grid_line]:stroke-slate-800">
        <ResponsiveContainer width="100%" height="100%">
          {children}
        </ResponsiveContainer>
      </div>
    </figure>
  );
}

const margin = { top: 4, right: 8, bottom: 0, left: 0 };
const axis = { stroke: 'currentColor', tick: { fill: 'currentColor', fontSize: 11 }, tickLine: false } as const;
const xAxis = <XAxis dataKey="t" type="number" scale="time" domain={['dataMin', 'dataMax']} tickFormatter={(v: number) => day.format(v)} minTickGap={28} {...axis} />;
const last = <T,>(data: Point[], pick: (p: Point) => T | null) => [...data].reverse().map(pick).find((v) => v !== null) ?? null;

/** Free store space, load and memory, or a word on why there is nothing to draw. */
export function HostMetricsCharts({ samples, days }: { samples: HostSample[]; days: number }) {
  const data = points(samples);
  if (data.length === 0) {
    return (
      <p className="px-5 py-10 text-center text-sm text-slate-500 dark:text-slate-400" data-testid="metrics-empty">
        No samples in the last {days} days. The agent reports its vitals with every heartbeat; one sample is kept every few minutes.
      </p>
    );
  }
  const free = last(data, (p) => p.storeFree);
  const load = last(data, (p) => p.load);
  const mem = last(data, (p) => p.memPercent);
  return (
    <div className="grid gap-6 p-5 md:grid-cols-3" data-testid="host-metrics" data-samples={data.length}>
      <Chart title="Free on the Nix store" latest={free === null ? '—' : formatBytes(free * GIB)} testId="chart-store-free">
        <AreaChart data={data} margin={margin}>
          <CartesianGrid vertical={false} />
          {xAxis}
          <YAxis width={44} tickFormatter={(v: number) => `${Math.round(v)}G`} domain={[0, 'auto']} {...axis} />
          <Tooltip content={<Tip show={(p) => (p.storeFree === null ? 'no value' : `${formatBytes(p.storeFree * GIB)} free`)} />} />
          <Area dataKey="storeFree" type="monotone" stroke="#10b981" fill="#10b981" fillOpacity={0.15} connectNulls isAnimationActive={false} />
        </AreaChart>
      </Chart>
      <Chart title="Load (1 min)" latest={load === null ? '—' : load.toFixed(2)} testId="chart-load">
        <LineChart data={data} margin={margin}>
          <CartesianGrid vertical={false} />
          {xAxis}
          {/* Whole numbers up from 0: a load axis of 0.65, 1.3, 1.95 reads badly. */}
          <YAxis width={44} domain={[0, (max: number) => Math.max(1, Math.ceil(max))]} allowDecimals={false} {...axis} />
          <Tooltip content={<Tip show={(p) => (p.load === null ? 'no value' : `load ${p.load.toFixed(2)}`)} />} />
          <Line dataKey="load" type="monotone" stroke="#6366f1" dot={false} connectNulls isAnimationActive={false} />
        </LineChart>
      </Chart>
      <Chart title="Memory in use" latest={mem === null ? '—' : `${Math.round(mem)} %`} testId="chart-memory">
        <AreaChart data={data} margin={margin}>
          <CartesianGrid vertical={false} />
          {xAxis}
          <YAxis width={44} domain={[0, 100]} tickFormatter={(v: number) => `${v}%`} {...axis} />
          <Tooltip
            content={<Tip show={(p) => (p.memUsed === null || !p.memTotal ? 'no value' : `${formatBytes(p.memUsed)} of ${formatBytes(p.memTotal)} (${Math.round(p.memPercent ?? 0)} %)`)} />}
          />
          <Area dataKey="memPercent" type="monotone" stroke="#f59e0b" fill="#f59e0b" fillOpacity={0.15} connectNulls isAnimationActive={false} />
        </AreaChart>
      </Chart>
    </div>
  );
}
