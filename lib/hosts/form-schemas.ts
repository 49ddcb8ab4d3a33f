// Form inputs arrive as strings: lists are typed comma- or space-separated.
import { z } from 'zod';
import { ZEmail } from '@/lib/orgs/schemas';
import { ZTag } from './schemas';

const list = (value: unknown) =>
  typeof value === 'string'
    ? value
        .split(/[\s,]+/)
        .map((s) => s.trim())
        .filter(Boolean)
    : value;

export const ZTagList = z.preprocess(list, z.array(ZTag).max(50));
export const ZEmailList = z.preprocess(list, z.array(ZEmail).max(100));
