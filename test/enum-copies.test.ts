// Enum values that are still written out where lib/db/enums.ts cannot be imported (the wire
// protocol imports only zod) or has not been adopted yet: each copy must equal the pg enum's.
import { describe, expect, it } from 'vitest';
import { RESTORE_STATUSES as PROTOCOL_RESTORE_STATUSES } from '@/lib/agents/protocol';
import { RESTORE_STATUSES } from '@/lib/db/enums';

describe('copies of enum values', () => {
  it('match the pg enums', () => {
    expect(PROTOCOL_RESTORE_STATUSES).toEqual(RESTORE_STATUSES);
  });
});
