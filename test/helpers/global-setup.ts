/**
 * Integration-test global setup: use the emulator answering on AWS_ENDPOINT_URL,
 * or start moto there and stop it after the run.
 */
import { mkdirSync } from 'node:fs';
import { type EmulatorHandle, ensureEmulator } from '../../local/emulator.js';

let handle: EmulatorHandle | undefined;

export async function setup(): Promise<void> {
  const endpoint = process.env.AWS_ENDPOINT_URL || 'http://127.0.0.1:4566';
  mkdirSync('test-results', { recursive: true });
  handle = await ensureEmulator({ endpoint, logFile: 'test-results/emulator.log' });
  if (handle.started) console.log(`[global-setup] started moto on ${endpoint} (pid ${handle.pid})`);
}

export async function teardown(): Promise<void> {
  await handle?.stop();
}
