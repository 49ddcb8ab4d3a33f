// reachAll() is reach() for the thousands of hosts a deployment names, with one query for a
// requester's assignments: the same boundary, crossed here host by host.
import { describe, expect, it } from 'vitest';
import { db } from '@/lib/db/client';
import { hostAssignees, hosts } from '@/lib/db/schema';
import { reachAll } from '@/lib/hosts/reach';
import { makeOrg } from './fixtures';

async function twoHosts(orgId: string) {
  return db()
    .insert(hosts)
    .values([
      { orgId, name: 'reach-mine', tags: ['lab'] },
      { orgId, name: 'reach-theirs', tags: ['office'] },
    ])
    .returning();
}

describe('reachAll', () => {
  it('lets a requester reach only the hosts assigned to them, as reach() does', async () => {
    const fx = await makeOrg();
    const [mine, theirs] = await twoHosts(fx.org.id);
    await db().insert(hostAssignees).values({ hostId: mine!.id, userId: fx.members.requester.id });
    const requester = fx.members.requester.caller;
    expect((await reachAll(requester, [mine!])).map((h) => h.name)).toEqual(['reach-mine']);
    // The same 404 as a host that does not exist: requesters cannot learn other people's hosts.
    await expect(reachAll(requester, [mine!, theirs!])).rejects.toMatchObject({ code: 'not_found', message: 'No host named "reach-theirs"' });
    expect(await reachAll(fx.members.operator.caller, [mine!, theirs!])).toHaveLength(2);
  });

  it("refuses another organisation's host and, for a tag-limited token, hosts outside its tags", async () => {
    const fx = await makeOrg();
    const other = await makeOrg();
    const [mine, theirs] = await twoHosts(fx.org.id);
    const [foreign] = await twoHosts(other.org.id);
    await expect(reachAll(fx.members.operator.caller, [mine!, foreign!])).rejects.toMatchObject({ code: 'not_found' });
    const limited = { ...fx.members.operator.caller, token: { id: 't', name: 'lab only', hostTags: ['lab'] } };
    expect(await reachAll(limited, [mine!])).toHaveLength(1);
    await expect(reachAll(limited, [mine!, theirs!])).rejects.toMatchObject({ code: 'forbidden' });
  });
});
