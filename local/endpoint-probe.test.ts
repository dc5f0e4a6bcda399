/**
 * `isEndpointUp`, the probe every CLI command that checks a local stack sends first: any HTTP
 * answer is "up", a refused connection or no answer within the deadline is "down", and it
 * does not load undici (the global fetch's 20-30 ms of CPU, docs/performance.md, session 16).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { isEndpointUp } from './emulator.js';

const servers: Server[] = [];
async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

describe('isEndpointUp', () => {
  it('is true for any HTTP answer, an error status included', async () => {
    expect(await isEndpointUp(await serve((_q, res) => res.end('ok')))).toBe(true);
    expect(await isEndpointUp(await serve((_q, res) => res.writeHead(404).end()))).toBe(true);
  });

  it('is false for a refused connection and for an answer later than the deadline', async () => {
    const closed = await serve(() => {});
    await new Promise((r) => servers.pop()!.close(r));
    expect(await isEndpointUp(closed, 1000)).toBe(false);
    const silent = await serve(() => {}); // accepts, never answers
    const started = Date.now();
    expect(await isEndpointUp(silent, 300)).toBe(false);
    expect(Date.now() - started).toBeLessThan(5000);
    // A body that does not end within the deadline is no answer either.
    const dribbling = await serve((_q, res) => res.write('partial'));
    expect(await isEndpointUp(dribbling, 300)).toBe(false);
  });

  it('does not load undici', async () => {
    const endpoint = await serve((_q, res) => res.end('ok'));
    const emulator = path.join(path.dirname(fileURLToPath(import.meta.url)), 'emulator.ts');
    const script =
      `(async () => { const { isEndpointUp } = await import(${JSON.stringify(emulator)});` +
      `const up = await isEndpointUp(${JSON.stringify(endpoint)});` +
      `console.log(JSON.stringify({ up, undici: process.moduleLoadList.some((m) => m.includes('undici')) })); })();`;
    const tsx = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'node_modules', '.bin', 'tsx');
    // Not execFileSync: the server above answers from this process's event loop.
    const { stdout: out } = await promisify(execFile)(tsx, ['--eval', script], { encoding: 'utf8', timeout: 60_000 });
    expect(JSON.parse(out.trim().split('\n').pop()!)).toEqual({ up: true, undici: false });
  }, 60_000);
});
