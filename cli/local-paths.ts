/**
 * Local paths given on the command line: which values are S3 URIs, which local input
 * files a job reads (checked before anything is uploaded), and programs on PATH.
 */
import { accessSync, constants, existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../core/errors.js';

/**
 * The `file://` URI of a local input read in place, or undefined when its path cannot
 * be one: a glob character, comma or backslash in it would read as a pattern or list
 * (core/input-listing.ts), so such a path is uploaded instead.
 */
export function fileInputUri(local: string): string | undefined {
  const abs = path.resolve(local);
  // eslint-disable-next-line no-control-regex -- control characters cannot be in an input URI
  if (/[*?[\]{},\\\u0000-\u001f\u007f]/.test(abs)) return undefined;
  return `file://${abs}${statSync(abs).isDirectory() && abs !== '/' ? '/' : ''}`;
}

/**
 * True for an S3 location. Anything that looks like a URI (`s3:/x`, `S3://x`,
 * `https://...`) must be a valid s3:// URI: it is never taken as a local path.
 */
export function isS3(v: string, what: string): boolean {
  if (v.startsWith('s3://')) return true;
  if (/^s3:/i.test(v) || /^[a-z][a-z0-9+.-]*:\/\//i.test(v)) {
    throw new UsageError(
      `Invalid ${what} "${v}": give a local path or an S3 URI of the form s3://<bucket>/<key>, e.g. s3://my-bucket/input/.`,
    );
  }
  return false;
}

/** Every regular file under a path (the path itself if it is a file), sorted. */
function listLocalFiles(root: string): string[] {
  const st = statSync(root);
  if (st.isFile()) return [root];
  const out: string[] = [];
  for (const entry of readdirSync(root, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(path.join(entry.parentPath, entry.name));
  }
  return out.sort();
}

/** True when `program` is an executable file in a directory on PATH. */
export function onPath(program: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    try {
      accessSync(path.join(dir, program), constants.X_OK);
      return true;
    } catch {}
  }
  return false;
}

/** The files of one local input file or directory, checked first. */
export function checkedLocalInputFiles(input: string): string[] {
  if (!existsSync(input)) {
    throw new UsageError(
      `Input ${input} does not exist: give an existing file or directory (relative to ${process.cwd()}) or an s3:// URI.`,
    );
  }
  const files = listLocalFiles(input);
  if (files.length === 0) {
    throw new UsageError(`Input directory ${input} is empty (no files in it): add input files, or point --input elsewhere.`);
  }
  if (files.every((file) => statSync(file).size === 0)) {
    throw new UsageError(`Input ${input} holds only empty files (0 bytes): nothing to process.`);
  }
  return files;
}
