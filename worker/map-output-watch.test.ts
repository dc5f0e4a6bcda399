import { describe, expect, it } from 'vitest';
import type { MapOutputRef } from '../aws/items.js';
import type { Services } from '../services/context.js';
import { type CommittedMap, watchCommittedMaps } from './map-output-watch.js';

const committed = (i: number): MapOutputRef => ({
  taskId: `m-0000${i}`,
  index: i,
  status: 'COMMITTED',
  output: { key: `tmp/j/map/m-0000${i}/attempt-1`, offsets: [0, 10] },
});
const running = (i: number): MapOutputRef => ({ taskId: `m-0000${i}`, index: i, status: 'RUNNING' });

/** Services with a task table whose map listing is `listings` in turn (the last one repeats), and a job whose count follows the listings. */
function fakeServices(listings: MapOutputRef[][]): { s: Services; listed: () => number } {
  let calls = 0;
  const latest = (): MapOutputRef[] => listings[Math.min(calls, listings.length) - 1] ?? [];
  const s = {
    timings: { heartbeatMs: 5 },
    log: { info: () => {}, warn: () => {}, error: () => {}, debug: () => {} },
    tasks: {
      listMapOutputs: async () => {
        calls++;
        return latest();
      },
      // The task listing an early reducer reads for maps nobody runs: the same view here.
      listMapTasks: async () => {
        calls++;
        return latest();
      },
    },
    jobs: {
      // The job's count moves once the next listing holds more commits than the last one read.
      get: async () => ({ status: 'RUNNING', mapsCommitted: (listings[Math.min(calls, listings.length - 1)] ?? []).filter((t) => t.status === 'COMMITTED').length }),
    },
  } as unknown as Services;
  return { s, listed: () => calls };
}

async function watch(s: Services, numMaps: number, first?: Promise<readonly MapOutputRef[] | undefined>) {
  const seen: CommittedMap[][] = [];
  const stats = await watchCommittedMaps(s, { jobId: 'j', numMaps }, 0, async (maps) => void seen.push([...maps]), new AbortController().signal, first);
  return { seen: seen.map((b) => b.map((t) => t.taskId)), stats };
}

describe('watchCommittedMaps with a listing taken during the claim', () => {
  it('uses that listing instead of listing again when every map committed', async () => {
    const { s, listed } = fakeServices([[committed(0), committed(1)]]);
    const r = await watch(s, 2, Promise.resolve([committed(0), committed(1)]));
    expect(r.seen).toEqual([['m-00000', 'm-00001']]);
    expect(listed()).toBe(0);
    expect(r.stats).toEqual({ jobReads: 0, mapListings: 1 });
  });

  it('lists itself when the early listing failed (undefined)', async () => {
    const { s, listed } = fakeServices([[committed(0), committed(1)]]);
    const r = await watch(s, 2, Promise.resolve(undefined));
    expect(r.seen).toEqual([['m-00000', 'm-00001']]);
    expect(listed()).toBe(1);
  });

  it('waits for the maps the early listing saw running, and hands each map over once', async () => {
    const { s, listed } = fakeServices([[committed(0), committed(1)]]);
    const r = await watch(s, 2, Promise.resolve([committed(0), running(1)]));
    expect(r.seen).toEqual([['m-00000'], ['m-00001']]);
    expect(listed()).toBe(1);
    expect(r.stats.mapListings).toBe(2);
    expect(r.stats.jobReads).toBeGreaterThan(0);
  });
});
