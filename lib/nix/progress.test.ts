import { describe, expect, it } from 'vitest';
import { NixProgressReader } from './progress';

describe('NixProgressReader', () => {
  it('counts builds and passes log lines through', () => {
    const r = new NixProgressReader();
    const lines = [
      '@nix {"action":"start","id":1,"level":0,"parent":0,"text":"","type":104}',
      '@nix {"action":"start","id":2,"level":3,"parent":1,"text":"building \'/nix/store/x-hello.drv\'","type":105,"fields":["/nix/store/x-hello.drv","",1,1]}',
      '@nix {"action":"result","id":2,"type":101,"fields":["compiling hello"]}',
      '@nix {"action":"result","id":1,"type":105,"fields":[1,2,1,0]}',
      '@nix {"action":"msg","level":0,"msg":"\\u001b[31;1merror:\\u001b[0m builder failed"}',
      '@nix {"action":"stop","id":2}',
      'plain stderr line',
      '@nix {not json',
    ];
    const out = lines.map((l) => r.feed(l)).filter(Boolean);
    expect(out).toEqual(["building '/nix/store/x-hello.drv'", 'compiling hello', 'error: builder failed', 'plain stderr line']);
    expect(r.progress.builds).toEqual({ done: 1, expected: 2, running: 1, failed: 0 });
    expect(r.progress.building).toEqual([]);
  });
});
