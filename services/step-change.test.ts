import { describe, expect, it } from 'vitest';
import type { Services } from './context.js';
import { enqueueStepMaps } from './step-change.js';

/** A task queue and job store that record what a step's enqueue does. */
function fakeServices() {
  const sent: string[] = [];
  let marked: number | undefined;
  const s = {
    now: () => 0,
    taskQueue: {
      sendAll: async (bodies: readonly string[]) => {
        sent.push(...bodies.map((b) => (JSON.parse(b) as { taskId: string }).taskId));
      },
    },
    jobs: {
      markMapEnqueued: async (_: string, step: number) => {
        marked = step;
        return true;
      },
    },
  } as unknown as Services;
  return { s, sent, marked: () => marked };
}

describe('enqueueStepMaps', () => {
  it('sends a later step’s maps in the given order (largest part first) and marks them enqueued', async () => {
    const f = fakeServices();
    await enqueueStepMaps(f.s, { jobId: 'j', step: 1, numMaps: 3 }, [2, 0, 1]);
    expect(f.sent).toEqual(['s2-m-00002', 's2-m-00000', 's2-m-00001']);
    expect(f.marked()).toBe(1);
  });

  it('sends in index order without an order (the checker’s re-send), in batches of any size', async () => {
    const f = fakeServices();
    await enqueueStepMaps(f.s, { jobId: 'j', step: 2, numMaps: 1200 });
    expect(f.sent).toHaveLength(1200);
    expect(f.sent[0]).toBe('s3-m-00000');
    expect(f.sent[1199]).toBe('s3-m-01199');
  });
});
