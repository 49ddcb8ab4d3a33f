'use client';

// The conversation on a request: questions and answers between the requester and IT.
import { useState, useTransition } from 'react';
import { Button } from '@/components/ui/button';
import { FormError } from '@/components/ui/form';
import type { ActionState } from '@/lib/api/action';
import type { TRequestView } from '@/lib/requests/schemas';
import { actionError } from './action-error';
import { formatTime } from './format';

export const textareaClass =
  'block w-full rounded-md border-0 bg-white px-3 py-2 text-sm text-slate-900 shadow-sm ring-1 ring-inset ring-slate-300 placeholder:text-slate-400 focus:ring-2 focus:ring-inset focus:ring-brand-600 dark:bg-slate-900 dark:text-slate-100 dark:ring-slate-700';

type Props = {
  comments: TRequestView['comments'];
  requesterEmail: string;
  myEmail: string;
  /** Absent when the caller may only read (viewers), or when the review panel holds the box. */
  onPost?: (body: string) => Promise<ActionState<unknown>>;
};

function Comment({ c, requesterEmail, myEmail }: { c: TRequestView['comments'][number]; requesterEmail: string; myEmail: string }) {
  const mine = c.author === myEmail;
  const role = c.author === requesterEmail ? 'requester' : 'IT';
  return (
    <li className="flex gap-3" data-testid="request-comment">
      <span className={`mt-0.5 flex h-8 w-8 shrink-0 items-center justify-center rounded-full text-xs font-semibold ${role === 'IT' ? 'bg-brand-50 text-brand-700 dark:bg-blue-950 dark:text-blue-300' : 'bg-slate-100 text-slate-600 dark:bg-slate-800 dark:text-slate-300'}`} aria-hidden>
        {(c.author ?? '?').slice(0, 1).toUpperCase()}
      </span>
      <div className="min-w-0 flex-1">
        <p className="text-xs text-slate-500 dark:text-slate-400">
          <span className="font-medium text-slate-700 dark:text-slate-200">{mine ? 'You' : (c.author ?? 'a former member')}</span> · {role} · {formatTime(c.createdAt)}
        </p>
        <p className="mt-1 whitespace-pre-wrap text-sm">{c.body}</p>
      </div>
    </li>
  );
}

export function CommentThread({ comments, requesterEmail, myEmail, onPost }: Props) {
  const [body, setBody] = useState('');
  const [error, setError] = useState<string>();
  const [busy, start] = useTransition();
  return (
    <div className="space-y-4">
      {comments.length === 0 ? <p className="text-sm text-slate-500 dark:text-slate-400">No comments yet.</p> : null}
      <ul className="space-y-4" aria-label="Comments">
        {comments.map((c) => (
          <Comment key={c.id} c={c} requesterEmail={requesterEmail} myEmail={myEmail} />
        ))}
      </ul>
      {onPost ? (
        <form
          className="space-y-2"
          onSubmit={(e) => {
            e.preventDefault();
            start(async () => {
              const result = await onPost(body);
              setError(actionError(result));
              if (result?.ok) setBody('');
            });
          }}
        >
          <label htmlFor="request-comment" className="sr-only">
            Add a comment
          </label>
          <textarea id="request-comment" rows={3} className={textareaClass} placeholder="Add a comment or answer a question" value={body} onChange={(e) => setBody(e.target.value)} maxLength={4000} />
          <FormError message={error} />
          <div className="flex justify-end">
            <Button type="submit" variant="secondary" disabled={busy || !body.trim()}>
              {busy ? 'Posting…' : 'Comment'}
            </Button>
          </div>
        </form>
      ) : null}
    </div>
  );
}
