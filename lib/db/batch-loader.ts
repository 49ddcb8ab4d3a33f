// Loads of one kind that arrive within a couple of milliseconds go to the database as one
// statement. During a reconnect storm thousands of agents say hello each second; one query
// per agent per step made admission database-bound (~100 a second on two cores), a query
// per batch is not. DataLoader (graphql/dataloader) does the gathering; nothing is cached
// between batches, since a credential can be revoked and a target can move at any moment.
import DataLoader from 'dataloader';

export type BatchLoader<K, V> = { load: (key: K) => Promise<V> };

/**
 * `load(keys)` answers every key in one round trip, in the keys' order. A key may appear
 * more than once in a batch (two sockets of one host); a failed batch fails each of its loads.
 */
export function batchLoader<K, V>(load: (keys: readonly K[]) => Promise<V[]>, opts: { maxBatch?: number; waitMs?: number } = {}): BatchLoader<K, V> {
  const waitMs = opts.waitMs ?? 2;
  return new DataLoader<K, V>(async (keys) => load(keys), {
    cache: false,
    maxBatchSize: opts.maxBatch ?? 500,
    batchScheduleFn: (run) => setTimeout(run, waitMs),
  });
}
