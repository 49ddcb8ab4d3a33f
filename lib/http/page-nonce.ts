// The page's CSP nonce in the browser, for code that adds its own <style> elements
// (CodeMirror). Browsers hide the nonce attribute's value from the DOM but keep it on
// the `nonce` property of the scripts Next.js rendered with it.
export function pageNonce(): string {
  if (typeof document === 'undefined') return '';
  return document.querySelector<HTMLScriptElement>('script[nonce]')?.nonce ?? '';
}
