// One outgoing POST of a webhook, through node:http(s) so the connection goes only to an
// address the guard checked (lib/notify/address-guard.ts). No redirects (a 3xx is an
// answer: following it could lead anywhere), no connection reuse, a hard timeout, and
// only the start of the answer is read.
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { AddressRefused, addressProblem, guardedLookup, urlHost } from './address-guard';

export type OutboundAnswer = { status: number; snippet: string };

export class OutboundTimeout extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms / 1000} s`);
    this.name = 'TimeoutError';
  }
}

export function postGuarded(target: string, body: string, headers: Record<string, string>, opts: { timeoutMs: number; snippetBytes: number }): Promise<OutboundAnswer> {
  const url = new URL(target);
  // An IP literal is connected to without a lookup: check it here.
  const host = urlHost(url);
  const literalProblem = isIP(host) ? addressProblem(host) : null;
  if (literalProblem) return Promise.reject(new AddressRefused(literalProblem));
  const client = url.protocol === 'https:' ? https : http;
  return new Promise<OutboundAnswer>((resolve, reject) => {
    const req = client.request(url, {
      method: 'POST',
      headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      lookup: guardedLookup(),
      agent: false,
    });
    const timer = setTimeout(() => req.destroy(new OutboundTimeout(opts.timeoutMs)), opts.timeoutMs);
    const finish = (fn: () => void) => {
      clearTimeout(timer);
      fn();
    };
    req.once('error', (error) => finish(() => reject(error)));
    req.once('response', (res) => {
      const chunks: Buffer[] = [];
      let total = 0;
      const done = () => finish(() => resolve({ status: res.statusCode ?? 0, snippet: Buffer.concat(chunks).toString('utf8').slice(0, opts.snippetBytes) }));
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        total += chunk.byteLength;
        // The rest is dropped: a receiver cannot make the worker read megabytes.
        if (total >= opts.snippetBytes) {
          res.destroy();
          done();
        }
      });
      res.once('end', done);
      // A body cut short does not change the status we got.
      res.once('error', done);
    });
    req.end(body);
  });
}
