import { Logo } from '@/components/brand/logo';

export default function AuthLayout({ children }: { children: React.ReactNode }) {
  return (
    <main className="flex min-h-screen flex-col items-center justify-center px-4 py-12">
      <div className="mb-8 flex items-center gap-2.5">
        <Logo className="h-9 w-9" />
        <span className="text-xl font-semibold tracking-tight">Flotilla</span>
      </div>
      <div className="w-full max-w-sm rounded-xl bg-white p-7 shadow-sm ring-1 ring-slate-200 dark:bg-slate-900 dark:ring-slate-800">{children}</div>
      <p className="mt-6 text-xs text-slate-500">Fleet management for NixOS</p>
    </main>
  );
}
