'use client';

// The overview's charts over time. Colours that must follow the theme (axes, grid, the
// tooltip) come from CSS variables set on the wrapper for light and dark; the series use
// the same greens, reds and ambers as the badges.
import type { ReactElement } from 'react';
import { Area, AreaChart, Bar, CartesianGrid, ComposedChart, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { Card, CardHeader } from '@/components/ui/card';
import type { DeployDay, FleetPoint, TimeTick } from './chart-data';

const COLORS = { online: '#10b981', notOnline: '#94a3b8', drifted: '#f59e0b', failed: '#ef4444', reboot: '#3b82f6', rate: '#6366f1', rolledBack: '#a855f7' };

const dayFormat = new Intl.DateTimeFormat('en', { month: 'short', day: 'numeric', timeZone: 'UTC' });
const hourFormat = new Intl.DateTimeFormat('en', { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false, timeZone: 'UTC' });
const formatDay = (v: number | string) => dayFormat.format(typeof v === 'string' ? Date.parse(v) : v);
const formatHour = (v: unknown) => `${hourFormat.format(Number(v))} UTC`;

const axis = { stroke: 'var(--chart-axis)', tick: { fill: 'var(--chart-axis)', fontSize: 12 }, tickLine: false } as const;
const tooltip = {
  contentStyle: { background: 'var(--chart-tooltip)', border: '1px solid var(--chart-grid)', borderRadius: 6, fontSize: 12 },
  labelStyle: { color: 'var(--chart-text)', fontWeight: 600 },
  itemStyle: { padding: 0 },
} as const;
const legend = { wrapperStyle: { fontSize: 12, color: 'var(--chart-axis)' }, iconSize: 10 } as const;

function ChartCard({ title, description, empty, emptyText, testId, children }: { title: string; description: string; empty: boolean; emptyText: string; testId: string; children: ReactElement }) {
  return (
    <Card>
      <CardHeader title={title} description={description} />
      <div
        data-testid={testId}
        className={`${empty ? 'h-36' : 'h-64'} px-2 py-4 [--chart-axis:#64748b] [--chart-grid:#e2e8f0] [--chart-text:#0f172a] [--chart-tooltip:#ffffff] dark:[--chart-axis:#94a3b8] dark:[--chart-grid:#1e293b] dark:[--chart-text:#f1f5f9] dark:[--chart-tooltip:#0f172a]`}
      >
        {empty ? (
          <div className="flex h-full items-center justify-center px-6 text-center text-sm text-slate-500 dark:text-slate-400">{emptyText}</div>
        ) : (
          <ResponsiveContainer width="100%" height="100%">
            {children}
          </ResponsiveContainer>
        )}
      </div>
    </Card>
  );
}

/**
 * Grid, time axis, count axis, tooltip and legend of the charts hour by hour (an array, so
 * recharts sees each as a direct child). The ticks and their labels come from the server.
 */
function hourlyFrame(ticks: TimeTick[]) {
  const labels = new Map(ticks.map((t) => [t.at, t.label]));
  return [
    <CartesianGrid key="grid" stroke="var(--chart-grid)" vertical={false} />,
    <XAxis
      key="x"
      dataKey="at"
      type="number"
      scale="time"
      domain={['dataMin', 'dataMax']}
      ticks={ticks.map((t) => t.at)}
      tickFormatter={(v: number) => labels.get(v) ?? formatDay(v)}
      minTickGap={16}
      {...axis}
    />,
    <YAxis key="y" allowDecimals={false} width={40} {...axis} />,
    <Tooltip key="tooltip" labelFormatter={formatHour} {...tooltip} />,
    <Legend key="legend" {...legend} />,
  ];
}

const NO_SAMPLES = 'No samples yet. The worker samples the fleet every 5 minutes.';

/** Online hosts and the rest of the fleet, hour by hour. */
export function OnlineChart({ points, ticks }: { points: FleetPoint[]; ticks: TimeTick[] }) {
  return (
    <ChartCard title="Online hosts" description="Hosts connected, and the rest of the fleet, over 30 days." empty={points.length === 0} emptyText={NO_SAMPLES} testId="chart-online">
      <AreaChart data={points} margin={{ top: 4, right: 16, bottom: 0, left: 0 }}>
        {hourlyFrame(ticks)}
        <Area type="stepAfter" dataKey="online" name="Online" stackId="fleet" stroke={COLORS.online} fill={COLORS.online} fillOpacity={0.35} isAnimationActive={false} />
        <Area type="stepAfter" dataKey="notOnline" name="Offline or never seen" stackId="fleet" stroke={COLORS.notOnline} fill={COLORS.notOnline} fillOpacity={0.2} isAnimationActive={false} />
      </AreaChart>
    </ChartCard>
  );
}

/** Drifted hosts, failed last deployments and pending reboots, hour by hour. */
export function DriftChart({ points, ticks }: { points: FleetPoint[]; ticks: TimeTick[] }) {
  return (
    <ChartCard title="Drift" description="Hosts not running their desired system, whose last deployment failed, or waiting for a reboot." empty={points.length === 0} emptyText={NO_SAMPLES} testId="chart-drift">
      <LineChart data={points} margin={{ top: 4, right: 16, bottom: 0, left: 0 }}>
        {hourlyFrame(ticks)}
        <Line type="stepAfter" dataKey="drifted" name="Drifted" stroke={COLORS.drifted} strokeWidth={2} dot={false} isAnimationActive={false} />
        <Line type="stepAfter" dataKey="failed" name="Failed last deployment" stroke={COLORS.failed} strokeWidth={2} dot={false} isAnimationActive={false} />
        <Line type="stepAfter" dataKey="needsReboot" name="Needs reboot" stroke={COLORS.reboot} strokeWidth={2} dot={false} isAnimationActive={false} />
      </LineChart>
    </ChartCard>
  );
}

/** Deployments started per day by outcome, and the share of finished ones that succeeded. */
export function DeploymentsChart({ days }: { days: DeployDay[] }) {
  const total = days.reduce((n, d) => n + d.succeeded + d.failed + d.rolledBack + d.other, 0);
  return (
    <ChartCard
      title="Deployments per day"
      description={`${total} started in the last ${days.length} days; the line is the success rate of those that succeeded or failed.`}
      empty={total === 0}
      emptyText={`No deployments in the last ${days.length} days.`}
      testId="chart-deployments"
    >
      <ComposedChart data={days} margin={{ top: 4, right: 0, bottom: 0, left: 0 }}>
        <CartesianGrid stroke="var(--chart-grid)" vertical={false} />
        <XAxis dataKey="day" tickFormatter={formatDay} minTickGap={24} {...axis} />
        <YAxis yAxisId="count" allowDecimals={false} width={40} {...axis} />
        <YAxis yAxisId="rate" orientation="right" domain={[0, 100]} unit=" %" width={52} {...axis} />
        <Tooltip labelFormatter={(v) => formatDay(String(v))} {...tooltip} cursor={{ fill: 'var(--chart-grid)', opacity: 0.5 }} />
        <Legend {...legend} />
        <Bar yAxisId="count" dataKey="succeeded" name="Succeeded" stackId="d" fill={COLORS.online} isAnimationActive={false} />
        <Bar yAxisId="count" dataKey="failed" name="Failed" stackId="d" fill={COLORS.failed} isAnimationActive={false} />
        <Bar yAxisId="count" dataKey="rolledBack" name="Rolled back on purpose" stackId="d" fill={COLORS.rolledBack} isAnimationActive={false} />
        <Bar yAxisId="count" dataKey="other" name="Running or cancelled" stackId="d" fill={COLORS.notOnline} isAnimationActive={false} />
        <Line yAxisId="rate" type="monotone" dataKey="successRate" name="Success rate (%)" stroke={COLORS.rate} strokeWidth={2} connectNulls dot={{ r: 2 }} isAnimationActive={false} />
      </ComposedChart>
    </ChartCard>
  );
}
