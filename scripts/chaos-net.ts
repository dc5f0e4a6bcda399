/**
 * `chaos --net-faults` (issue 17): the workers' AWS traffic goes through the fault proxy
 * (test/helpers/fault-proxy.ts) at NET_FAULT_RATES while the killer SIGKILLs them; the
 * stack process (coordinator, checker) talks to the emulator directly. Kept apart from
 * chaos.ts so that other chaos modes merge without touching it.
 */
import { type Timings } from '../core/config.js';
import { FaultProxy, type FaultCounts, type FaultRates } from '../test/helpers/fault-proxy.js';

/** The rates of the report: 5 % errors and latency spikes, 2 % resets of each kind, 0.2 % black-holes. */
export const NET_FAULT_RATES: FaultRates = { error: 0.05, latency: 0.05, resetBefore: 0.02, resetMidBody: 0.02, blackhole: 0.002 };

/**
 * Leases for runs through the proxy: 500 ms beats, a 5 s lease. A lease write is cut per
 * try at a third of the lease (aws/task-store.ts leaseWriteAttemptMs) and retried, so a
 * 3 s latency spike or a black-holed write does not end a healthy lease.
 */
export const NET_FAULT_TIMINGS: Partial<Timings> = { heartbeatMs: 500, missedHeartbeats: 10 };

export interface NetFaults {
  /** Environment that routes a worker through the proxy. */
  readonly workerEnv: Record<string, string>;
  readonly counts: FaultCounts;
  /** One line: the rates and what was injected so far. */
  describe(): string;
  close(): Promise<void>;
}

export async function startNetFaults(target: string, seed: number): Promise<NetFaults> {
  const proxy = await FaultProxy.start({ target, seed, rates: NET_FAULT_RATES, maxLifetimeMs: 3 * 3600_000 });
  return {
    workerEnv: { AWS_ENDPOINT_URL: proxy.endpoint },
    counts: proxy.counts,
    describe: () => {
      const c = proxy.counts;
      return (
        `net faults (rates ${JSON.stringify(NET_FAULT_RATES)}): ${c.requests} requests, ${c.error} errors, ${c.latency} latency spikes, ` +
        `${c.resetBefore} resets before the answer, ${c.resetMidBody} resets mid-body, ${c.blackhole} black-holed`
      );
    },
    close: () => proxy.close(),
  };
}
