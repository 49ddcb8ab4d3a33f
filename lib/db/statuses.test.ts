import { describe, expect, it } from 'vitest';
import type { BuildStatus, TargetPhase } from './enums';
import * as enums from './enums';
import * as schema from './schema';
import * as statuses from './statuses';

/** Which enum each set draws from, by its name. */
const ENUM_OF: [RegExp, readonly string[]][] = [
  [/_BUILD_STATUSES$/, schema.buildStatusEnum.enumValues],
  [/_DEPLOYMENT_STATUSES$/, schema.deploymentStatusEnum.enumValues],
  [/_TARGET_PHASES$/, schema.targetPhaseEnum.enumValues],
  [/_REQUEST_STATUSES$/, schema.requestStatusEnum.enumValues],
  [/_RESTORE_STATUSES$/, schema.restoreStatusEnum.enumValues],
];

const sets = Object.entries(statuses as Record<string, unknown>).filter((e): e is [string, readonly string[]] => Array.isArray(e[1]));
const sorted = (values: readonly string[]) => [...values].sort();

describe('status sets', () => {
  it('finds every set, and each belongs to exactly one enum', () => {
    expect(sets.length).toBeGreaterThanOrEqual(13);
    for (const [name] of sets) expect(ENUM_OF.filter(([pattern]) => pattern.test(name)), name).toHaveLength(1);
  });

  it.each(sets)('%s holds only values of its pg enum, each once', (name, values) => {
    const [, enumValues] = ENUM_OF.find(([pattern]) => pattern.test(name))!;
    expect(values.length).toBeGreaterThan(0);
    expect(new Set(values).size).toBe(values.length);
    for (const value of values) expect(enumValues, `${name} has "${value}"`).toContain(value);
  });

  it('splits each enum into what is final and what is not', () => {
    const splits: [readonly string[], readonly string[], readonly string[]][] = [
      [statuses.FINAL_DEPLOYMENT_STATUSES, statuses.UNFINISHED_DEPLOYMENT_STATUSES, schema.deploymentStatusEnum.enumValues],
      [statuses.FINAL_TARGET_PHASES, statuses.OPEN_TARGET_PHASES, schema.targetPhaseEnum.enumValues],
      [statuses.FINAL_REQUEST_STATUSES, statuses.OPEN_REQUEST_STATUSES, schema.requestStatusEnum.enumValues],
    ];
    for (const [final, open, all] of splits) {
      expect(sorted([...final, ...open])).toEqual(sorted(all));
      expect(final.filter((v) => open.includes(v))).toEqual([]);
    }
  });

  it('nests the narrower sets in the wider ones', () => {
    const within = (inner: readonly string[], outer: readonly string[]) => expect(inner.filter((v) => !outer.includes(v))).toEqual([]);
    within(statuses.ACTIVE_DEPLOYMENT_STATUSES, statuses.UNFINISHED_DEPLOYMENT_STATUSES);
    within(statuses.ROLLING_DEPLOYMENT_STATUSES, statuses.ACTIVE_DEPLOYMENT_STATUSES);
    within(statuses.FAILED_DEPLOYMENT_STATUSES, statuses.FINAL_DEPLOYMENT_STATUSES);
    within(statuses.IN_FLIGHT_TARGET_PHASES, statuses.OPEN_TARGET_PHASES);
    within(statuses.FAILED_TARGET_PHASES, statuses.FINAL_TARGET_PHASES);
    within(statuses.NOT_STARTED_TARGET_PHASES, statuses.FINAL_TARGET_PHASES);
    within(statuses.UNDER_WAY_REQUEST_STATUSES, statuses.OPEN_REQUEST_STATUSES);
  });

  it('answers the guards from the sets', () => {
    expect(statuses.isFinalDeployment('halted')).toBe(true);
    expect(statuses.isFinalDeployment('paused')).toBe(false);
    expect(statuses.isInFlightPhase('needs-decision')).toBe(true);
    expect(statuses.isInFlightPhase('pending')).toBe(false);
    expect(statuses.isFinalRequest('withdrawn')).toBe(true);
    expect(statuses.isFinalPhase('no-such-phase')).toBe(false);
  });

  it('rejects a value outside the enum at compile time', () => {
    // @ts-expect-error: "finished" is not a build status; `satisfies` makes the slip a type error.
    const wrong = ['succeeded', 'finished'] as const satisfies readonly BuildStatus[];
    // @ts-expect-error: a target phase, not a deployment's.
    const alsoWrong = ['downloading'] as const satisfies readonly enums.DeploymentStatus[];
    const right = ['pending', 'sent'] as const satisfies readonly TargetPhase[];
    expect([wrong, alsoWrong, right]).toHaveLength(3);
  });
});

describe('enum values', () => {
  it('are what schema.ts made its pg enums from', () => {
    expect(schema.roleEnum.enumValues).toEqual(enums.ROLES);
    expect(schema.buildStatusEnum.enumValues).toEqual(enums.BUILD_STATUSES);
    expect(schema.deploymentStatusEnum.enumValues).toEqual(enums.DEPLOYMENT_STATUSES);
    expect(schema.deploymentSourceEnum.enumValues).toEqual(enums.DEPLOYMENT_SOURCES);
    expect(schema.targetPhaseEnum.enumValues).toEqual(enums.TARGET_PHASES);
    expect(schema.requestKindEnum.enumValues).toEqual(enums.REQUEST_KINDS);
    expect(schema.requestStatusEnum.enumValues).toEqual(enums.REQUEST_STATUSES);
    expect(schema.packagePolicyRuleEnum.enumValues).toEqual(enums.PACKAGE_POLICY_RULES);
    expect(schema.webhookFormatEnum.enumValues).toEqual(enums.WEBHOOK_FORMATS);
    expect(schema.webhookDeliveryStatusEnum.enumValues).toEqual(enums.WEBHOOK_DELIVERY_STATUSES);
    expect(schema.metricResolutionEnum.enumValues).toEqual(enums.METRIC_RESOLUTIONS);
    expect(schema.alertKindEnum.enumValues).toEqual(enums.ALERT_KINDS);
    expect(schema.restoreStatusEnum.enumValues).toEqual(enums.RESTORE_STATUSES);
  });
});
