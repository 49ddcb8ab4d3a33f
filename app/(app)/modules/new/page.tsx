import type { Metadata } from 'next';
import { Forbidden } from '@/components/shell/forbidden';
import { PageHeader } from '@/components/ui/card';
import { pageCaller } from '@/lib/auth/page';
import { ModuleEditor } from '../module-editor';

export const metadata: Metadata = { title: 'New shared module' };

const TEMPLATE = `{ config, pkgs, lib, ... }:\n{\n  # Settings for every host with this module's tags.\n}\n`;

export default async function NewModulePage() {
  const { allowed } = await pageCaller('hosts.write');
  if (!allowed) return <Forbidden what="Creating shared modules" />;
  return (
    <>
      <PageHeader title="New shared module" />
      <ModuleEditor initial={{ name: '', tags: [], text: TEMPLATE, version: 0 }} editable />
    </>
  );
}
