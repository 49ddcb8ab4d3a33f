// One operation in a process of its own, for tests that kill a process at a chosen point
// (FLOTILLA_CRASH_AT, lib/events/outbox.ts): `node --import tsx test/crash-child.ts
// <operation> <args…>`. Prints DONE when the operation returned (it should not, when the
// crash point is reached).
import { callerForUser } from '@/lib/auth/membership';
import { closeDb } from '@/lib/db/client';
import { cancelDeployment } from '@/lib/deployments/control';
import { denyRequest } from '@/lib/requests/review';

const [operation, id, userId] = process.argv.slice(2);
const caller = await callerForUser(userId as string);
if (!caller) throw new Error(`no caller for ${userId}`);
if (operation === 'deny-request') await denyRequest(caller, id as string, 'Not on this machine');
else if (operation === 'cancel-deployment') await cancelDeployment(caller, id as string);
else throw new Error(`unknown operation ${operation}`);
console.log('DONE');
await closeDb();
