import { open } from 'node:fs/promises';
import { createServer, connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { DescriptorPeak } from './descriptor-peak.js';

describe('DescriptorPeak', () => {
  it('keeps the most descriptors seen, and the sockets among them at that moment', async () => {
    const peak = new DescriptorPeak();
    peak.look('fetch');
    const base = peak.openFiles;
    expect(base).toBeGreaterThan(0);
    const files = await Promise.all([0, 1, 2, 3, 4].map(() => open('/proc/self/stat', 'r')));
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    const clients: Socket[] = [connect(port, '127.0.0.1'), connect(port, '127.0.0.1')];
    await Promise.all(clients.map((c) => once(c, 'connect')));
    peak.look('merge');
    // 5 files, the listening socket, 2 client sockets and (at least once accepted) their server ends.
    expect(peak.openFiles).toBeGreaterThanOrEqual(base + 8);
    expect(peak.sockets).toBeGreaterThanOrEqual(3);
    expect(peak.at).toBe('merge');
    const seen = peak.openFiles;
    for (const c of clients) c.destroy();
    server.close();
    await Promise.all(files.map((f) => f.close()));
    peak.look('fetch');
    // Fewer now: the peak and its moment stay.
    expect(peak.openFiles).toBe(seen);
    expect(peak.at).toBe('merge');
    expect(peak.looks).toBe(3);
  });
});
