// Password hashing with argon2id (OWASP's first choice), via the prebuilt @node-rs/argon2.
import 'server-only';
import { hash, verify } from '@node-rs/argon2';

export { ZPassword } from './password-policy';

export function hashPassword(password: string): Promise<string> {
  return hash(password);
}

export async function verifyPassword(passwordHash: string | null, password: string): Promise<boolean> {
  // Hash anyway when the user has no password, so timing does not reveal which accounts exist.
  if (!passwordHash) {
    await hash(password);
    return false;
  }
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}
