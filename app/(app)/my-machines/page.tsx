import type { Metadata } from 'next';
import { Forbidden } from '@/components/shell/forbidden';
import { pageCaller } from '@/lib/auth/page';
import { MyMachinesView } from './my-machines-view';

export const metadata: Metadata = { title: 'My machines' };

export default async function MyMachinesPage() {
  const { caller, allowed } = await pageCaller('requests.create');
  if (!allowed) return <Forbidden what="My machines" />;
  return <MyMachinesView caller={caller} />;
}
