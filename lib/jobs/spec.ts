// What a job is, apart from the code that runs it: name, version, payload schema, retry
// policy and schedule. Senders (any process, the web server included) import a spec and
// are typed against its payload schema; the worker binds a handler to the same spec
// (./register.ts), and parses every job with that schema. This module imports only zod,
// so a sender never pulls a handler (and its dependencies) into its bundle.
import { z } from 'zod';

/** pg-boss's retry and expiry options, stated by every job rather than left to the queue's defaults. */
export type RetryPolicy = {
  /** Retries after the first attempt. */
  retryLimit: number;
  /** Seconds before a retry; with backoff, retry n waits about delay·2ⁿ⁻¹…delay·2ⁿ. */
  retryDelay: number;
  retryBackoff: boolean;
  /** An attempt still active after this long is failed (and retried) by pg-boss. */
  expireInSeconds: number;
};

/**
 * When the worker sends the job by itself. `cron` is pg-boss's schedule (UTC, at most once a
 * minute across all workers). `everySeconds` is for sweeps that must act within a minute:
 * every worker sends it on a timer, throttled by pg-boss to one job per interval
 * (singletonSeconds), so several workers still run it once per interval. A function is
 * read when the worker registers the job (tests shorten it through the environment).
 */
export type Schedule = { cron: string } | { everySeconds: number | (() => number) };

export type JobSpec<S extends z.ZodType = z.ZodType> = {
  readonly name: string;
  /**
   * Bumped for a change of payload or meaning that old senders or old workers would get
   * wrong. The version is part of the queue name (`queue`): an incompatible change is a
   * new queue, so a worker never receives a payload of another version, and during a
   * rolling upgrade old and new workers each drain their own queue. Version 1 keeps the
   * bare name, the queue every job had before versions existed.
   */
  readonly version: number;
  /** The pg-boss queue: `name` for version 1, `name-vN` after. */
  readonly queue: string;
  readonly payload: S;
  readonly retry: RetryPolicy;
  readonly schedule?: Schedule;
};

/** What a sender passes: the schema's input type. */
export type JobPayload<J extends JobSpec> = z.input<J['payload']>;
/** What a handler receives: the schema's output type. */
export type JobData<J extends JobSpec> = z.output<J['payload']>;

export class InvalidJobPayload extends Error {}

export function jobSpec<S extends z.ZodType>(def: { name: string; version: number; payload: S; retry: RetryPolicy; schedule?: Schedule }): JobSpec<S> {
  if (!/^[a-z][a-z0-9-]*$/.test(def.name)) throw new Error(`job name ${def.name}: lower-case letters, digits and hyphens`);
  if (!Number.isInteger(def.version) || def.version < 1) throw new Error(`job ${def.name}: version must be a positive integer`);
  return { ...def, queue: def.version === 1 ? def.name : `${def.name}-v${def.version}` };
}

/** Parses a payload with the job's schema; a malformed one is an error naming the job and the fields. */
export function parsePayload<J extends JobSpec>(spec: J, raw: unknown): JobData<J> {
  const parsed = spec.payload.safeParse(raw ?? {});
  if (!parsed.success) throw new InvalidJobPayload(`job ${spec.queue}: malformed payload: ${z.prettifyError(parsed.error)}`);
  return parsed.data as JobData<J>;
}

/**
 * Scheduled sweeps: the next run is the retry, so a failed run is not repeated. A run
 * still active after 15 minutes is failed.
 */
export const SWEEP_RETRY: RetryPolicy = { retryLimit: 0, retryDelay: 0, retryBackoff: false, expireInSeconds: 15 * 60 };
