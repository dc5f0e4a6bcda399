/**
 * Private emulators and isolated namespaces: a moto server per test file (see
 * privateEmulator for why), a TestStack on it, and a fresh set of resources per test
 * with an injectable clock for seeding stale state directly (no workers, no loops).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { type AwsClients, createClients, destroyClients } from '../../aws/clients.js';
import type { Timings } from '../../core/config.js';
import { localResourceNames, type ResourceNames } from '../../core/resources.js';
import { bootstrapLocalStack } from '../../local/bootstrap.js';
import { ensureEmulator } from '../../local/emulator.js';
import { createServices, type Services, silentLog } from '../../services/context.js';
import { FaultProxy, type FaultProxyOptions } from './fault-proxy.js';
import { freePort } from '../../local/free-port.js';
import { ENDPOINT, FAST_TIMINGS, TestStack, type TestStackOptions } from './stack.js';

export interface Namespace {
  readonly names: ResourceNames;
  readonly clients: AwsClients;
  /** A fresh Services over this namespace (own clients) whose clock is `now`. */
  services(now: () => number, timings?: Partial<Timings>): Services;
  close(): void;
}

/** Create the resources of a unique prefix on the emulator (no LocalStack, no loops). */
export async function isolatedNamespace(endpoint: string = ENDPOINT): Promise<Namespace> {
  const names = localResourceNames(`f-${randomBytes(5).toString('hex')}`);
  const clients = createClients({ endpoint, region: 'us-east-1' });
  await bootstrapLocalStack(clients, names);
  const extra: AwsClients[] = [];
  return {
    names,
    clients,
    services(now, timings = {}) {
      const c = createClients({ endpoint, region: 'us-east-1' });
      extra.push(c);
      return createServices(c, names, { ...FAST_TIMINGS, ...timings }, silentLog, now);
    },
    close() {
      for (const c of [clients, ...extra]) destroyClients(c);
    },
  };
}

/**
 * A private emulator on a free port, started by local/emulator.ts (moto with DynamoDB
 * requests serialised). The fault tests use one each rather than the shared emulator:
 * they make conditional writes race and commits get refused on purpose, and an
 * emulator that was started before that fix (plain `python -m moto.server`) does not
 * apply those atomically (measured on it: two concurrent reclaims of one task both held
 * in 5 of 30 tries; a refused commit undid a concurrent claim of another task in 22 of
 * 39), which would make the tests fail for the emulator's reasons, not the framework's.
 */
export interface PrivateEmulator {
  readonly endpoint: string;
  stop(): Promise<void>;
}

export async function privateEmulator(): Promise<PrivateEmulator> {
  const endpoint = `http://127.0.0.1:${await freePort()}`;
  const handle = await ensureEmulator({ endpoint, timeoutMs: 60_000 });
  return { endpoint, stop: () => handle.stop() };
}

/** A TestStack on its own private emulator; `stop()` stops both. */
export async function startFaultStack(o: Omit<TestStackOptions, 'endpoint'> = {}): Promise<TestStack> {
  const emu = await privateEmulator();
  try {
    const t = await TestStack.start({ ...o, endpoint: emu.endpoint });
    const stop = t.stop.bind(t);
    t.stop = async () => {
      try {
        await stop();
      } finally {
        await emu.stop();
      }
    };
    return t;
  } catch (err) {
    await emu.stop();
    throw err;
  }
}

/**
 * A TestStack on its own private emulator whose workers (only) talk to it through a fault
 * proxy (their AWS_ENDPOINT_URL); the stack process and the test talk to it directly.
 * `t.stop()` stops the stack, the proxy and the emulator.
 */
export async function startProxiedStack(
  proxyOptions: Omit<FaultProxyOptions, 'target'>,
  o: Omit<TestStackOptions, 'endpoint' | 'workerEnv'>,
): Promise<{ readonly t: TestStack; readonly proxy: FaultProxy }> {
  const emu = await privateEmulator();
  let proxy: FaultProxy | undefined;
  try {
    proxy = await FaultProxy.start({ ...proxyOptions, target: emu.endpoint });
    const t = await TestStack.start({ ...o, endpoint: emu.endpoint, workerEnv: { AWS_ENDPOINT_URL: proxy.endpoint } });
    const stop = t.stop.bind(t);
    const started = proxy;
    t.stop = async () => {
      try {
        await stop();
      } finally {
        await started.close();
        await emu.stop();
      }
    };
    return { t, proxy };
  } catch (err) {
    await proxy?.close();
    await emu.stop();
    throw err;
  }
}

/**
 * A private emulator for the test file and a fresh isolated namespace for each test,
 * with the hooks that start, create, close and stop them registered in the calling
 * `describe`. Read `ns` and `s` (services on `now`) inside tests or hooks.
 */
export function usePrivateNamespace(now: () => number = Date.now): {
  readonly ns: Namespace;
  readonly s: Services;
} {
  let emu: PrivateEmulator | undefined;
  const state = {} as { ns: Namespace; s: Services };
  beforeAll(async () => {
    emu = await privateEmulator();
  });
  afterAll(async () => {
    await emu?.stop();
  });
  beforeEach(async () => {
    state.ns = await isolatedNamespace(emu!.endpoint);
    state.s = state.ns.services(now);
  });
  afterEach(() => state.ns?.close());
  return state;
}
