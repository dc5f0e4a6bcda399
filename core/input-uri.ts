/**
 * Input locations: an `s3://bucket/key` object, prefix or glob, or — on a local stack
 * only — a `file:///absolute/path` on the machine the stack runs on. Listed objects and
 * splits of a local file carry LOCAL_FILES_BUCKET (an S3 bucket name is never empty)
 * and the absolute path without its leading '/' as the key, so the listing rules
 * (core/input-listing.ts) and the split rules (core/splits.ts) treat both alike.
 */
import { InvalidKeyError } from './errors.js';
import { parseS3Uri, type S3Location, validateKey } from './s3uri.js';

/** The `bucket` of a local file's listed object and split. */
export const LOCAL_FILES_BUCKET = '';

/** True for a `file://` input. */
export function isFileUri(uri: string): boolean {
  return /^file:/i.test(uri);
}

/** True when a listed object or split is a local file. */
export function isLocalFile(o: { readonly bucket: string }): boolean {
  return o.bucket === LOCAL_FILES_BUCKET;
}

/** The absolute local path of a local file's object or split. */
export function localPathOf(o: { readonly key: string }): string {
  return `/${o.key}`;
}

/** The URI of a listed object or split, for messages and the task environment. */
export function inputUriOf(o: { readonly bucket: string; readonly key: string }): string {
  return isLocalFile(o) ? `file:///${o.key}` : `s3://${o.bucket}/${o.key}`;
}

/**
 * Parse `file:///abs/path` (taken literally: no percent-decoding, no host) into
 * LOCAL_FILES_BUCKET and the path without its leading '/'. The path must be absolute,
 * without `.`, `..` or empty segments, backslashes or control characters.
 */
export function parseFileUri(uri: string): S3Location {
  const m = /^file:\/\/(\/.*)$/.exec(uri);
  if (!m) {
    throw new InvalidKeyError(
      `Invalid file URI "${uri}": expected file:// followed by an absolute path, for example file:///home/me/data/`,
      { context: { uri } },
    );
  }
  const key = m[1]!.slice(1);
  validateKey(key, uri, 'file path');
  return { bucket: LOCAL_FILES_BUCKET, key };
}

/** Parse an input URI, `s3://` or `file://` (see parseS3Uri, parseFileUri). */
export function parseInputUri(uri: string): S3Location {
  return isFileUri(uri) ? parseFileUri(uri) : parseS3Uri(uri);
}
