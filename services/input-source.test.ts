import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BlobStore } from '../aws/blob-store.js';
import { SubmissionRefusedError } from '../core/errors.js';
import { resolveInputs } from '../core/input-listing.js';
import { parseInputUri } from '../core/input-uri.js';
import { fileInputUri } from '../cli/local-paths.js';
import { inputSource, localInputRefusal } from './input-source.js';

/** Local files never touch S3: any call to the store is a bug. */
const noS3 = new Proxy({}, { get: () => () => Promise.reject(new Error('S3 called')) }) as BlobStore;
const local = inputSource(noS3, { localFiles: true });

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'mr-input-source-'));
  for (const f of ['logs/a.txt', 'logs/_SUCCESS', 'logs/.a.crc', 'logs/sub/b.txt', 'logs2/c.txt', 'one.txt']) {
    mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    writeFileSync(path.join(dir, f), `${f}\n`);
  }
  symlinkSync(path.join(dir, 'one.txt'), path.join(dir, 'logs2', 'link.txt'));
  symlinkSync(path.join(dir, 'one.txt'), path.join(dir, 'named-link.txt'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const paths = async (inputs: string[], recursive = false) =>
  (await resolveInputs(inputs, (b, p) => local.list(b, p), { recursive })).map((o) => `/${o.key}`.slice(dir.length + 1));

describe('local file input', () => {
  it('lists directories, files, globs and comma lists by the S3 input rules', async () => {
    expect(await paths([`file://${dir}/logs/`], true)).toEqual(['logs/a.txt', 'logs/sub/b.txt']);
    await expect(paths([`file://${dir}/logs/`])).rejects.toThrow(`file://${dir}/logs/sub/`);
    expect(await paths([`file://${dir}/logs*/*.txt`])).toEqual(['logs/a.txt', 'logs2/c.txt']);
    expect(await paths([`file://${dir}/one.txt,file://${dir}/logs2`])).toEqual(['logs2/c.txt', 'one.txt']);
    // A link inside a directory is skipped (as `mapreduce run` uploads a directory); a named link is read.
    expect(await paths([`file://${dir}/named-link.txt`])).toEqual(['named-link.txt']);
    await expect(paths([`file://${dir}/nothing-here`])).rejects.toThrow(/does not exist/);
  });

  it('reads byte ranges of a file', async () => {
    const key = parseInputUri(`file://${dir}/one.txt`).key;
    const read = async (start: number, end: number) => {
      const chunks: Buffer[] = [];
      for await (const c of await local.getRange('', key, start, end)) chunks.push(c as Buffer);
      return Buffer.concat(chunks).toString();
    };
    expect(await read(0, 8)).toBe('one.txt\n');
    expect(await read(2, 5)).toBe('e.t');
    expect(await read(4, 4)).toBe('');
  });

  it('is refused, listing and reading alike, where local files are not allowed', async () => {
    const remote = inputSource(noS3, { localFiles: false });
    const key = parseInputUri(`file://${dir}/one.txt`).key;
    await expect(remote.list('', key)).rejects.toThrow(SubmissionRefusedError);
    await expect(remote.getRange('', key, 0, 1)).rejects.toThrow(localInputRefusal(`file:///${key}`));
  });

  it('file URIs must be absolute and plain; the CLI uploads a path that cannot be one', () => {
    expect(() => parseInputUri('file://relative/x')).toThrow(/absolute path/);
    expect(() => parseInputUri('file:///a/../etc')).toThrow(/file path/);
    expect(fileInputUri(path.join(dir, 'logs'))).toBe(`file://${dir}/logs/`);
    expect(fileInputUri(path.join(dir, 'one.txt'))).toBe(`file://${dir}/one.txt`);
    mkdirSync(path.join(dir, 'a,b'));
    expect(fileInputUri(path.join(dir, 'a,b'))).toBeUndefined();
  });
});
