// The text of a notification e-mail: plain text for every client, and a small HTML part
// with the same words. Everything that came from data is escaped.

export type TEmailInput = { title: string; body: string; link: string; orgName: string };
export type TRenderedEmail = { subject: string; text: string; html: string };

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

export function renderNotificationEmail({ title, body, link, orgName }: TEmailInput): TRenderedEmail {
  const footer = `You get this e-mail as a member of ${orgName} in Flotilla.`;
  const text = [title, '', ...(body ? [body, ''] : []), `Open in Flotilla: ${link}`, '', '-- ', footer, ''].join('\n');
  const paragraphs = body
    ? body
        .split(/\n{2,}/)
        .map((p) => `<p style="margin:0 0 12px">${escapeHtml(p).replace(/\n/g, '<br>')}</p>`)
        .join('')
    : '';
  const html = `<!doctype html>
<html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>
<body style="margin:0;padding:24px;background:#f8fafc;font-family:system-ui,-apple-system,Segoe UI,sans-serif;color:#0f172a">
<div style="max-width:560px;margin:0 auto;background:#ffffff;border:1px solid #e2e8f0;border-radius:8px;padding:24px">
<h1 style="margin:0 0 12px;font-size:18px;line-height:1.4">${escapeHtml(title)}</h1>
${paragraphs}
<p style="margin:16px 0 0"><a href="${escapeHtml(link)}" style="display:inline-block;background:#2563eb;color:#ffffff;text-decoration:none;padding:8px 14px;border-radius:6px;font-size:14px">Open in Flotilla</a></p>
<p style="margin:12px 0 0;font-size:12px;color:#64748b">${escapeHtml(link)}</p>
</div>
<p style="max-width:560px;margin:12px auto 0;font-size:12px;color:#64748b">${escapeHtml(footer)}</p>
</body></html>
`;
  return { subject: title, text, html };
}
