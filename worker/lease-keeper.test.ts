import { describe, expect, it } from 'vitest';
import { DEFAULT_TIMINGS, leaseMs } from '../core/config.js';
import type { Services } from '../services/context.js';
import { Heartbeat, KEEPER_STEPS_IN_AFTER_BEATS, keeperActions, type KeeperLink, type KeeperView, type TrackedAttempt } from './heartbeat.js';
import { readView, SLOT, storeSlot } from './lease-keeper.js';

const hb = DEFAULT_TIMINGS.heartbeatMs;
const LEASE = leaseMs(DEFAULT_TIMINGS);
const T0 = 1_000_000;
const view = (over: Partial<KeeperView> = {}): KeeperView => ({
  mainBeatAt: T0,
  leaseWrittenAt: T0,
  visibleUntil: T0 + 120_000,
  blockedLimitMs: 600_000,
  ...over,
});

describe('keeperActions: when the lease keeper writes', () => {
  it('does nothing while the main thread beats, even if its lease writes are old (failing writes are its own business)', () => {
    const at = T0 + KEEPER_STEPS_IN_AFTER_BEATS * hb;
    expect(keeperActions(view({ leaseWrittenAt: T0 - 10 * hb, visibleUntil: T0 }), at, hb)).toEqual({ lease: false, visibility: false, item: false });
  });

  it('extends the lease once the main thread has been silent for more than 1½ intervals', () => {
    expect(keeperActions(view(), T0 + KEEPER_STEPS_IN_AFTER_BEATS * hb + 1, hb)).toEqual({ lease: true, visibility: false, item: true });
  });

  it('not again within an interval of the last lease write (by either thread)', () => {
    const now = T0 + 3 * hb;
    expect(keeperActions(view({ leaseWrittenAt: now - hb + 1 }), now, hb).lease).toBe(false);
    expect(keeperActions(view({ leaseWrittenAt: now - hb }), now, hb).lease).toBe(true);
  });

  it('hides the message again when it would be visible within 3 intervals, as a beat does', () => {
    const now = T0 + 2 * hb;
    expect(keeperActions(view({ visibleUntil: now + 3 * hb + 1 }), now, hb).visibility).toBe(false);
    expect(keeperActions(view({ visibleUntil: now + 3 * hb - 1 }), now, hb).visibility).toBe(true);
  });

  it('stops past the blocked limit (the task timeout), so the lease lapses', () => {
    const limit = 60_000;
    expect(keeperActions(view({ blockedLimitMs: limit }), T0 + limit, hb).lease).toBe(true);
    expect(keeperActions(view({ blockedLimitMs: limit, leaseWrittenAt: 0, visibleUntil: 0 }), T0 + limit + 1, hb)).toEqual({
      lease: false,
      visibility: false,
      item: false,
    });
    // No limit given (an executable's attempt): nothing, ever.
    expect(keeperActions(view({ blockedLimitMs: 0 }), T0 + 10 * hb, hb)).toEqual({ lease: false, visibility: false, item: false });
  });

  it('writes the worker item beside its first lease write after the main thread last beat, not on later ones', () => {
    const first = T0 + KEEPER_STEPS_IN_AFTER_BEATS * hb + 1;
    expect(keeperActions(view(), first, hb, { itemWrittenAt: 0, leaseFailing: false })).toMatchObject({ lease: true, item: true });
    // Written at `first`; the next lease write, an interval later, goes without it.
    const next = first + hb;
    expect(keeperActions(view({ leaseWrittenAt: first }), next, hb, { itemWrittenAt: first, leaseFailing: false })).toMatchObject({ lease: true, item: false });
    // The main thread beat again since, then blocked again: stepping in again writes it again.
    const later = next + 10 * hb;
    const again = view({ mainBeatAt: later, leaseWrittenAt: later });
    expect(keeperActions(again, later + KEEPER_STEPS_IN_AFTER_BEATS * hb + 1, hb, { itemWrittenAt: first, leaseFailing: false }).item).toBe(true);
    // Never while the main thread beats.
    expect(keeperActions(view(), T0 + hb, hb, { itemWrittenAt: 0, leaseFailing: false }).item).toBe(false);
  });

  it('while its lease writes fail, beside each retry at most once an interval, as a beat does', () => {
    const steppedIn = T0 + 2 * hb;
    const own = { itemWrittenAt: steppedIn, leaseFailing: true };
    // The lease was last written at T0 (the failures wrote nothing): each tick retries it.
    expect(keeperActions(view(), steppedIn + hb / 2, hb, own)).toMatchObject({ lease: true, item: false });
    expect(keeperActions(view(), steppedIn + hb, hb, own)).toMatchObject({ lease: true, item: true });
    expect(keeperActions(view(), steppedIn + hb, hb, { ...own, leaseFailing: false }).item).toBe(false);
  });

  it('ticking every half interval, it keeps a blocked attempt leased until the limit, and it then lapses', () => {
    // Main beats until T0 (its last lease write), then blocks. Simulate the keeper's ticks.
    const limit = 40 * hb;
    let leaseWrittenAt = T0;
    let expires = T0 + LEASE;
    let lapsedAt: number | undefined;
    let maxGap = 0;
    for (let now = T0; now <= T0 + limit + 2 * LEASE; now += hb / 2) {
      if (now > expires) {
        lapsedAt ??= now;
        continue;
      }
      if (keeperActions(view({ leaseWrittenAt, blockedLimitMs: limit }), now, hb).lease) {
        maxGap = Math.max(maxGap, now - leaseWrittenAt);
        leaseWrittenAt = now;
        expires = now + LEASE;
      }
    }
    expect(lapsedAt).toBeDefined();
    expect(lapsedAt!).toBeGreaterThan(T0 + limit);
    // Between writes at most 2 intervals (1½ silent, then the next half-interval tick): far inside a lease of 5.
    expect(maxGap).toBeLessThanOrEqual(2 * hb);
  });
});

describe('the shared state', () => {
  it('is read only for the attempt it names', () => {
    const shared = new BigInt64Array(new SharedArrayBuffer(32));
    storeSlot(shared, SLOT.gen, 7);
    storeSlot(shared, SLOT.mainBeatAt, T0);
    storeSlot(shared, SLOT.leaseWrittenAt, T0 + 1);
    storeSlot(shared, SLOT.visibleUntil, T0 + 2);
    expect(readView(shared, 7, 5)).toEqual({ mainBeatAt: T0, leaseWrittenAt: T0 + 1, visibleUntil: T0 + 2, blockedLimitMs: 5 });
    expect(readView(shared, 6, 5)).toBeUndefined();
    storeSlot(shared, SLOT.gen, 0); // untracked
    expect(readView(shared, 7, 5)).toBeUndefined();
  });
});

describe('Heartbeat with a lease keeper', () => {
  function setup() {
    const clock = { now: T0 };
    const published: string[] = [];
    const link: KeeperLink = {
      track: (_a, now, item) => void published.push(`track ${now} ${item.runningTask}#${item.runningAttempt}`),
      ready: async () => undefined,
      untrack: () => void published.push('untrack'),
      beat: (now) => void published.push(`beat ${now}`),
      leaseWritten: (at) => void published.push(`lease ${at}`),
      visibleUntil: () => T0 + 500_000,
      visibilityExtended: (until) => void published.push(`visible ${until}`),
    };
    const s = {
      now: () => clock.now,
      timings: DEFAULT_TIMINGS,
      log: { warn: () => undefined },
      workers: { beat: async () => undefined },
      tasks: { heartbeat: async () => undefined },
      taskQueue: { setVisibility: async () => undefined },
      jobs: { get: async () => ({ status: 'RUNNING' }) },
    } as unknown as Services;
    const a: TrackedAttempt = {
      ref: { jobId: 'j', taskId: 'r-00000', owner: 'w', attempt: 1, startedAt: T0 },
      receiptHandle: 'r',
      abort: new AbortController(),
      blockedLimitMs: 600_000,
      visibleUntil: T0 + 30_000,
    };
    return { hb: new Heartbeat(s, 'w', link), a, clock, published };
  }

  it('publishes what it tracks and writes, and takes the visibility the keeper extended', async () => {
    const { hb: beat, a, clock, published } = setup();
    beat.track(a);
    clock.now += hb;
    await beat.beat();
    beat.untrack();
    expect(published).toEqual([`track ${T0} j/r-00000#1`, `lease ${T0 + hb}`, 'untrack']);
    expect(a.visibleUntil).toBe(T0 + 500_000);
  });

  it("a keeper's refusal stops the attempt it was about, unless that attempt committed or is no longer running", () => {
    const { hb: beat, a } = setup();
    const refusal = (current: object) => Object.assign(new Error('refused'), { name: 'LeaseLostError', current, context: {} });
    beat.track(a);
    beat.leaseRefused(a, refusal({ status: 'COMMITTED', owner: 'w', committedAttempt: 1 }) as never);
    expect(a.abort.signal.aborted).toBe(false);
    const other = { ...a, abort: new AbortController() };
    beat.leaseRefused(other, refusal({ status: 'RUNNING', owner: 'x', attempt: 2 }) as never);
    expect(other.abort.signal.aborted).toBe(false); // not the running attempt
    beat.leaseRefused(a, refusal({ status: 'RUNNING', owner: 'x', attempt: 2 }) as never);
    expect(a.abort.signal.aborted).toBe(true);
  });
});
