/**
 * `file://` input (issue #14, item 1): a local stack's workers read the user's files in
 * place, by byte range, with the same listing, line-end and decompression rules as
 * S3 input; any other coordinator refuses it with a reason.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SubmissionRefusedError } from '../../core/errors.js';
import { manifestKey } from '../../core/layout.js';
import type { ManifestInput } from '../../core/manifest.js';
import { newJobId } from '../../core/model.js';
import { handleUpload } from '../../services/coordinator.js';
import { localInputRefusal } from '../../services/input-source.js';
import { checkSubmission } from '../../services/submission.js';
import { isolatedNamespace, type Namespace } from '../helpers/emulators.js';
import { finishJob, prng, referenceInput, words } from '../helpers/pipeline.js';
import { sortedLines, TestStack } from '../helpers/stack.js';

/** Lines of 1-12 words, some non-ASCII, ended by `eol`. */
function text(seed: number, lines: number, eol: string): Buffer {
  const rand = prng(seed);
  const vocab = ['the', 'map', 'reduce', 'café', 'naïve', 'split', 'ключ', 'zeta'];
  return Buffer.from(Array.from({ length: lines }, () => words(rand, 1 + Math.floor(rand() * 12), vocab)).join(eol) + eol);
}

/** The input: CR-LF lines (and one lone CR), a .gz file, a last line without '\n', and hidden files. */
const DATA: Record<string, Buffer> = {
  'a.txt': Buffer.concat([text(1, 60, '\r\n'), Buffer.from('lone\rcr line\r\n')]),
  'b.txt.gz': gzipSync(text(2, 50, '\n')),
  'c.txt': Buffer.from(`${text(3, 40, '\n').toString()}no newline at the end`),
  '_SUCCESS': Buffer.from('not input\n'),
  '.hidden': Buffer.from('not input either\n'),
};

describe('file:// input on a local stack', () => {
  let t: TestStack;
  let dir: string;
  beforeAll(async () => {
    t = await TestStack.start({ workers: 2 });
    dir = mkdtempSync(path.join(os.tmpdir(), 'mr-local-input-'));
    mkdirSync(path.join(dir, 'in'));
    for (const [name, body] of Object.entries(DATA)) writeFileSync(path.join(dir, 'in', name), body);
  }, 120_000);
  afterAll(async () => {
    await t?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a file:// job gives the same part files, byte for byte, as the s3:// job over the same files; nothing is uploaded', async () => {
    const s3Input = await t.putInput('in/same/', DATA);
    const job = (name: string, input: string): ManifestInput => ({
      input,
      output: `s3://${t.bucket}/out/${name}/`,
      mapper: 'cat',
      numReducers: 0,
      // Splits of 200 bytes: most lines cross a split boundary, the .gz file is one split.
      splitSize: 200,
    });
    const before = (await t.blobs.list(t.bucket, '')).length;
    const fromFile = t.submit(job('file', `file://${dir}/in/`));
    const fromS3 = t.submit(job('s3', s3Input));
    const [file, s3] = await Promise.all([
      finishJob(t, { jobId: await fromFile, output: `s3://${t.bucket}/out/file/` }),
      finishJob(t, { jobId: await fromS3, output: `s3://${t.bucket}/out/s3/` }),
    ]);
    expect(file.job.numMaps).toBe(s3.job.numMaps);
    expect(file.job.numMaps).toBeGreaterThan(10);
    expect(file.parts.length).toBe(s3.parts.length);
    file.parts.forEach((part, i) => expect(part.equals(s3.parts[i]!), `part ${i}`).toBe(true));
    // Hidden files skipped, the .gz file decompressed, CR-LF and lone CR ended as Hadoop's LineReader ends them.
    const expected = referenceInput({ 'a.txt': DATA['a.txt']!, 'b.txt.gz': text(2, 50, '\n'), 'c.txt': DATA['c.txt']! });
    expect(sortedLines(file.parts)).toEqual(sortedLines(expected));
    // The file:// job wrote its manifest, map outputs and parts, but no copy of its input.
    const keys = (await t.blobs.list(t.bucket, '')).map((o) => o.key);
    expect(keys.length).toBeGreaterThan(before);
    expect(keys.filter((k) => !k.startsWith('in/same/') && /(^|\/)(a\.txt|b\.txt\.gz|c\.txt)$/.test(k))).toEqual([]);
  }, 200_000);

  it('the local listing follows the input rules: a subdirectory is refused without --recursive, read with it', async () => {
    mkdirSync(path.join(dir, 'nested', 'sub'), { recursive: true });
    writeFileSync(path.join(dir, 'nested', 'top.txt'), 'top line\n');
    writeFileSync(path.join(dir, 'nested', 'sub', 'deep.txt'), 'deep line\r\n');
    const manifest = (name: string, recursive: boolean): ManifestInput => ({
      input: `file://${dir}/nested`,
      output: `s3://${t.bucket}/out/${name}/`,
      mapper: 'cat',
      numReducers: 0,
      ...(recursive ? { jobconf: { 'mapreduce.input.fileinputformat.input.dir.recursive': 'true' } } : {}),
    });
    const flat = await t.waitForJob(await t.submit(manifest('flat', false)));
    expect(flat.status).toBe('FAILED');
    expect(flat.reason).toContain(`file://${dir}/nested/sub/`);
    const deep = await finishJob(t, { jobId: await t.submit(manifest('deep', true)), output: `s3://${t.bucket}/out/deep/` });
    expect(sortedLines(deep.parts)).toEqual(['deep line', 'top line']);
  }, 120_000);
});

describe('file:// input anywhere but a local stack', () => {
  let ns: Namespace;
  beforeAll(async () => {
    ns = await isolatedNamespace();
  });
  afterAll(() => ns?.close());

  it('a coordinator that is not local fails the job with the reason; the CLI checks for a deployed stack refuse it too', async () => {
    const s = ns.services(Date.now); // localFiles: false, as on AWS
    const input = `file://${os.tmpdir()}/`;
    const manifest = { input, output: `s3://${ns.names.bucket}/out/x/`, mapper: 'cat' };
    const jobId = newJobId();
    await s.blobs.putBytes(ns.names.bucket, manifestKey(jobId), JSON.stringify(manifest));
    const outcome = await handleUpload(s, ns.names.bucket, manifestKey(jobId));
    expect(outcome.outcome).toBe('rejected');
    const job = await s.jobs.get(jobId);
    expect(job?.status).toBe('FAILED');
    expect(job?.reason).toContain(localInputRefusal(input));
    expect(await s.tasks.list(jobId)).toEqual([]);
    // The CLI's preflight against a deployed stack runs the same check.
    const refused = checkSubmission(s.blobs, ns.names.bucket, newJobId(), manifest, { localFiles: false });
    await expect(refused).rejects.toThrow(SubmissionRefusedError);
    await expect(refused).rejects.toThrow(localInputRefusal(input));
  }, 60_000);
});
