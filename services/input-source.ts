/**
 * Where input bytes come from: S3 objects, or — on a local stack only — files on this
 * machine (`file://` inputs, core/input-uri.ts). One small adapter so that the listing
 * (services/submission.ts), the coordinator's sampler and the map task's split reader
 * do not each choose between the two: they list and read through an InputSource.
 *
 * Trust: a local stack's coordinator and workers run as the local user, so a
 * `file://` input reads any path that user can read; a deployed stack refuses them.
 */
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { BlobStore, ObjectInfo } from '../aws/blob-store.js';
import { SubmissionRefusedError } from '../core/errors.js';
import { inputUriOf, isLocalFile, LOCAL_FILES_BUCKET, localPathOf } from '../core/input-uri.js';

/** Lists and reads the input of a job. */
export interface InputSource {
  /** Every input object whose key starts with `prefix` (S3's prefix listing), at most `limit`. */
  list(bucket: string, prefix: string, limit?: number): Promise<ObjectInfo[]>;
  /** Bytes [start, endExclusive) of one input object. */
  getRange(bucket: string, key: string, start: number, endExclusive: number): Promise<Readable>;
}

/** Directory entries a local listing visits at most: a glob near `/` must not walk the whole disk. */
export const MAX_LOCAL_ENTRIES = 200_000;

/** Why a deployed stack refuses `file://` input (also the CLI's message for a non-local target). */
export function localInputRefusal(uri: string): string {
  return (
    `Input ${uri} is a local file: file:// inputs are read only by a local stack (\`mapreduce local up\`, ` +
    '`mapreduce run`), whose workers run on this machine. Upload the data to S3 and give its s3:// URI.'
  );
}

/** An InputSource over S3, and over local files when `localFiles` is set (a local stack). */
export function inputSource(blobs: BlobStore, o: { readonly localFiles: boolean }): InputSource {
  const refuseLocal = (key: string): never => {
    throw new SubmissionRefusedError(localInputRefusal(inputUriOf({ bucket: LOCAL_FILES_BUCKET, key })));
  };
  return {
    list: async (bucket, prefix, limit) => {
      if (!isLocalFile({ bucket })) return blobs.list(bucket, prefix, limit);
      return o.localFiles ? listLocalFiles(prefix, limit) : refuseLocal(prefix);
    },
    getRange: async (bucket, key, start, endExclusive) => {
      if (!isLocalFile({ bucket })) return blobs.getRange(bucket, key, start, endExclusive);
      if (!o.localFiles) return refuseLocal(key);
      // createReadStream's `end` is inclusive; an empty range is an empty stream.
      if (endExclusive <= start) return Readable.from([]);
      return createReadStream(localPathOf({ key }), { start, end: endExclusive - 1, highWaterMark: 1024 * 1024 });
    },
  };
}

/**
 * Local files as S3 would list them under `prefix` (a path without its leading '/'):
 * every regular file whose path starts with it, in path order. As when `mapreduce run`
 * uploads a directory, symbolic links inside a directory are not followed; the path
 * named itself may be one.
 */
async function listLocalFiles(prefix: string, limit = Number.POSITIVE_INFINITY): Promise<ObjectInfo[]> {
  const abs = `/${prefix}`;
  const dir = abs.slice(0, abs.lastIndexOf('/') + 1);
  const start = abs.slice(dir.length);
  const found: ObjectInfo[] = [];
  let visited = 0;
  const add = (file: string, size: number) => found.push({ bucket: LOCAL_FILES_BUCKET, key: file.slice(1), size });
  const walk = async (d: string): Promise<void> => {
    for (const e of await entries(d)) {
      if (found.length >= limit) return;
      if (++visited > MAX_LOCAL_ENTRIES) {
        throw new SubmissionRefusedError(
          `Input file://${abs} covers more than ${MAX_LOCAL_ENTRIES} files and directories: name a narrower directory or pattern.`,
        );
      }
      const full = path.posix.join(d, e.name);
      if (e.isFile()) add(full, (await stat(full)).size);
      else if (e.isDirectory()) await walk(full);
    }
  };
  for (const e of await entries(dir)) {
    if (!e.name.startsWith(start) || found.length >= limit) continue;
    const full = path.posix.join(dir, e.name);
    // The named path itself may be a link (as `mapreduce run -i link` reads it); links below it are skipped.
    const st = e.isSymbolicLink() && full === abs.replace(/\/+$/, '') ? await stat(full).catch(() => undefined) : e;
    if (st?.isFile()) add(full, (await stat(full)).size);
    else if (st?.isDirectory()) await walk(full);
  }
  return found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** The entries of a directory, sorted by name; none when it does not exist or is not a directory. */
async function entries(dir: string) {
  try {
    return (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    if (code === 'EACCES' || code === 'EPERM') {
      throw new SubmissionRefusedError(`Cannot read the local directory ${dir}: permission denied.`, { cause: err });
    }
    throw err;
  }
}
