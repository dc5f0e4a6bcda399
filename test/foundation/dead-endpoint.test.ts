/**
 * A second, private emulator that is killed mid-suite: SDK calls must fail fast with
 * an actionable message naming the endpoint, and the CLI must exit 3 without a stack trace.
 * (The shared emulator on 4566 is never touched.)
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ListBucketsCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapLocalStack } from '../../local/bootstrap.js';
import { type AwsClients, createClients, destroyClients, explainEnvironmentError } from '../../aws/clients.js';
import { type EmulatorHandle, ensureEmulator, isEndpointUp } from '../../local/emulator.js';
import { EnvironmentError } from '../../core/errors.js';
import { localResourceNames } from '../../core/resources.js';
import { BlobStore } from '../../aws/blob-store.js';
import { cli } from '../helpers/cli.js';
import { freePort } from '../../local/free-port.js';
import { waitFor } from '../helpers/wait.js';
import { isAlive } from '../../local/state.js';

describe('a dead emulator endpoint fails fast and clearly', () => {
  let emulator: EmulatorHandle | undefined;
  let endpoint: string;
  let clients: AwsClients | undefined;
  let stateDir: string;

  beforeAll(async () => {
    stateDir = mkdtempSync(path.join(os.tmpdir(), 'mr-dead-'));
    endpoint = `http://127.0.0.1:${await freePort()}`;
    emulator = await ensureEmulator({ endpoint, timeoutMs: 60_000 });
    expect(emulator.started).toBe(true);
  });

  afterAll(async () => {
    if (clients) destroyClients(clients);
    if (emulator && isAlive(emulator.pid)) await emulator.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('works while the emulator is up, then fails within 15 s naming the endpoint once it is SIGKILLed', async () => {
    clients = createClients({ endpoint, region: 'us-east-1' });
    const names = localResourceNames(`d-${randomBytes(4).toString('hex')}`);
    await bootstrapLocalStack(clients, names);
    const blobs = new BlobStore(clients);
    await blobs.putBytes(names.bucket, 'alive.txt', 'yes');
    expect(await blobs.getText(names.bucket, 'alive.txt')).toBe('yes');

    const pid = emulator?.pid as number;
    process.kill(pid, 'SIGKILL');
    await waitFor('the killed emulator to exit', () => !isAlive(pid), { timeoutMs: 10_000, intervalMs: 50 });
    expect(await isEndpointUp(endpoint, 500)).toBe(false);

    const started = Date.now();
    const err = await clients.s3.send(new ListBucketsCommand({})).then(
      () => undefined,
      (e: unknown) => e,
    );
    const elapsed = Date.now() - started;
    expect(err, 'the SDK call should fail').toBeDefined();
    expect(elapsed).toBeLessThan(15_000);

    const explained = explainEnvironmentError(err, endpoint);
    expect(explained).toBeInstanceOf(EnvironmentError);
    const message = (explained as Error).message;
    expect(message).toContain(endpoint);
    expect(message).toContain('mapreduce local up');
    expect((explained as Error & { cause?: unknown }).cause).toBe(err);

    // A framework adapter call fails the same way (the error is not swallowed or retried forever).
    const started2 = Date.now();
    const err2 = await blobs.getText(names.bucket, 'alive.txt').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(Date.now() - started2).toBeLessThan(15_000);
    expect(explainEnvironmentError(err2, endpoint)).toBeInstanceOf(EnvironmentError);
  });

  it('the CLI exits 3 with one message naming the endpoint and `mapreduce local up`, no stack trace', async () => {
    // The endpoint is dead by now (previous test); if run alone, a fresh free port is just as dead.
    const dead = emulator && !(await isEndpointUp(endpoint, 500)) ? endpoint : `http://127.0.0.1:${await freePort()}`;
    const started = Date.now();
    const r = await cli(['status', '--endpoint', dead], { ...process.env, MR_STATE_DIR: stateDir }, { timeoutMs: 30_000 });
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(r.signal).toBeNull();
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toContain(dead);
    expect(r.stderr).toContain('mapreduce local up');
    expect(r.stderr).toMatch(/^error: /);
    expect(r.stderr).not.toMatch(/^ {4}at /m);
    expect(r.stdout).toBe('');
  });
});
