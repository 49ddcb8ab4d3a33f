import NextAuth from 'next-auth';
import { publicHandler } from '@/lib/api/route';
import { authOptions } from '@/lib/auth/next-auth';

// next-auth's own endpoints (sign-in, callback, session, CSRF) check what they need.
const handler = (req: Request, ctx: { params: Promise<{ nextauth: string[] }> }) => NextAuth(authOptions())(req, ctx);

export const GET = publicHandler('next-auth endpoints', handler);
export const POST = publicHandler('next-auth endpoints', handler);
