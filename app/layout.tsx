import type { Metadata } from 'next';
import { headers } from 'next/headers';
import { ThemeProvider } from 'next-themes';
import './globals.css';

export const metadata: Metadata = {
  title: { default: 'Flotilla', template: '%s · Flotilla' },
  description: 'Fleet management for NixOS',
};

// Reading the request's headers renders every page per request: a page's CSP nonce
// (proxy.ts) is new for each request, so no page may be prerendered.
export default async function RootLayout({ children }: { children: React.ReactNode }) {
  const nonce = (await headers()).get('x-nonce') ?? undefined;
  return (
    <html lang="en" suppressHydrationWarning>
      <body className="min-h-screen font-sans">
        {/* next-themes writes an inline script (and a <style> while switching themes): both need the nonce. */}
        <ThemeProvider attribute="class" defaultTheme="system" enableSystem disableTransitionOnChange nonce={nonce}>
          {children}
        </ThemeProvider>
      </body>
    </html>
  );
}
