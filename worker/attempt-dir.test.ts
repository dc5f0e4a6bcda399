import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { BlobStore } from '../aws/blob-store.js';
import type { TaskItem } from '../aws/task-store.js';
import type { AcceptedJob } from '../core/model.js';
import { FileCache } from './attempt-dir.js';

const SCRIPT = Buffer.from('#!/bin/sh\ncat\n');
/**
 * A store of one object, read by a plain GET (with its size) and by ranges, with no HEAD (a
 * download that asked for one would fail); `breakFirst` makes the first read stop mid-body
 * with a connection reset.
 */
const store = (breakFirst = false) => {
  const reads: [number, number][] = [];
  const read = (from: number, to: number) => {
    reads.push([from, to]);
    if (breakFirst && reads.length === 1) {
      return Readable.from((async function* () {
        yield SCRIPT.subarray(from, from + 4);
        throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
      })());
    }
    return Readable.from([SCRIPT.subarray(from, to)]);
  };
  const b = {
    getSized: async () => ({ body: read(0, SCRIPT.length), size: SCRIPT.length }),
    getRange: async (_b: string, _k: string, from: number, to: number) => read(from, to),
  } as unknown as BlobStore;
  return { blobs: b, reads };
};
const blobs = store().blobs;
const job = (jobId: string) => ({ jobId, manifest: { files: [`s3://code-bkt/code/${jobId}/map.sh`] } }) as unknown as AcceptedJob;
const task = { taskId: 'm-00000', attempt: 1 } as TaskItem;

describe('FileCache.dropEnded', () => {
  let scratch = '';
  afterEach(() => rmSync(scratch, { recursive: true, force: true }));

  it('removes the scratch directories of ended jobs only, looking at most once per interval', async () => {
    scratch = mkdtempSync(path.join(os.tmpdir(), 'mr-cache-'));
    const cache = new FileCache(blobs, scratch);
    const dirA = await cache.prepare(job('a'), task);
    await cache.prepare(job('b'), task);
    expect(existsSync(path.join(scratch, 'a', 'files', 'map.sh'))).toBe(true);
    expect(existsSync(path.join(dirA, 'map.sh'))).toBe(true);

    const asked: string[] = [];
    const ended = async (id: string) => {
      asked.push(id);
      return id === 'a';
    };
    expect(await cache.dropEnded(ended, 1_000, 5_000)).toEqual(['a']);
    expect(readdirSync(scratch)).toEqual(['b']);
    expect(cache.heldJobs()).toEqual(['b']);
    // Within the interval nothing is read again.
    expect(await cache.dropEnded(ended, 3_000, 5_000)).toEqual([]);
    expect(asked).toEqual(['a', 'b']);
    // A job dropped and used again is downloaded again (the cache forgot its files).
    await cache.prepare(job('a'), { ...task, attempt: 2 });
    expect(existsSync(path.join(scratch, 'a', 'files', 'map.sh'))).toBe(true);
  });

  it('reads nothing while it holds no job', async () => {
    scratch = mkdtempSync(path.join(os.tmpdir(), 'mr-cache-'));
    const cache = new FileCache(blobs, scratch);
    let reads = 0;
    expect(await cache.dropEnded(async () => ++reads > 0, 0, 0)).toEqual([]);
    expect(reads).toBe(0);
  });
});

describe('FileCache shipped-file download', () => {
  let scratch = '';
  afterEach(() => rmSync(scratch, { recursive: true, force: true }));

  it('resumes a download reset mid-body from the byte reached: the file is whole', async () => {
    scratch = mkdtempSync(path.join(os.tmpdir(), 'mr-cache-'));
    const { blobs: broken, reads } = store(true);
    const dir = await new FileCache(broken, scratch).prepare(job('r'), task);
    expect(readFileSync(path.join(dir, 'map.sh'))).toEqual(SCRIPT);
    expect(reads).toEqual([
      [0, SCRIPT.length],
      [4, SCRIPT.length],
    ]);
  });
});

describe('FileCache.prefetch', () => {
  let scratch = '';
  afterEach(() => rmSync(scratch, { recursive: true, force: true }));

  it('starts the download before prepare, which uses it: one read in all, the job held for dropEnded', async () => {
    scratch = mkdtempSync(path.join(os.tmpdir(), 'mr-cache-'));
    const { blobs: counted, reads } = store();
    const cache = new FileCache(counted, scratch);
    cache.prefetch(job('p'));
    expect(cache.heldJobs()).toEqual(['p']);
    await vi.waitFor(() => expect(reads).toHaveLength(1)); // under way before any prepare
    const dir = await cache.prepare(job('p'), task);
    expect(readFileSync(path.join(dir, 'map.sh'))).toEqual(SCRIPT);
    expect(reads).toEqual([[0, SCRIPT.length]]);
  });
});
