/**
 * Found by the fault tests: the local stack's workers share one scratch directory,
 * and each downloaded a job's shipped files straight to the shared path. A worker
 * could copy the mapper while another was rewriting it, run a truncated (empty)
 * script, which exits 0 with no output, and commit a map task with no records:
 * silent data loss. Several file caches (one per worker) now prepare the same job
 * concurrently and every attempt directory must hold the complete script.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobStore } from '../../aws/blob-store.js';
import type { TaskItem } from '../../aws/task-store.js';
import type { AcceptedJob } from '../../core/model.js';
import { FileCache } from '../../worker/attempt-dir.js';
import { isolatedNamespace, type Namespace, privateEmulator, type PrivateEmulator } from '../helpers/emulators.js';

describe('workers sharing a scratch directory', () => {
  let emu: PrivateEmulator;
  let ns: Namespace;
  let scratch: string;
  beforeAll(async () => {
    emu = await privateEmulator();
    ns = await isolatedNamespace(emu.endpoint);
    scratch = mkdtempSync(path.join(os.tmpdir(), 'mr-scratch-'));
  });
  afterAll(async () => {
    ns?.close();
    await emu?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('never hand an attempt a partly written shipped file', async () => {
    const blobs = new BlobStore(ns.clients);
    const script = `#!/bin/sh\n${'echo a line of the mapper\n'.repeat(4000)}`;
    await blobs.putBytes(ns.names.bucket, 'code/map.sh', script);
    for (let round = 0; round < 20; round++) {
      const job = {
        jobId: `job-${round}`,
        manifest: { files: [`s3://${ns.names.bucket}/code/map.sh`] },
      } as unknown as AcceptedJob;
      // One cache per worker process, all on the same directory, all starting the job at once.
      const dirs = await Promise.all(
        [0, 1, 2, 3].map((w) =>
          new FileCache(blobs, scratch).prepare(job, { taskId: `m-0000${w}`, attempt: 1 } as TaskItem),
        ),
      );
      for (const dir of dirs) expect(readFileSync(path.join(dir, 'map.sh'), 'utf8')).toBe(script);
    }
  });
});
