// What a password must be: a zod schema with no server-only imports, so forms in the
// browser can share it without pulling the argon2 native module into the bundle.
import { z } from 'zod';

export const ZPassword = z
  .string()
  .min(12, 'Use at least 12 characters')
  .max(256, 'Use at most 256 characters');
