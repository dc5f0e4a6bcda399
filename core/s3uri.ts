import { InvalidKeyError } from './errors.js';

/** A parsed `s3://bucket/key` location. `key` may be empty (the bucket root). */
export interface S3Location {
  readonly bucket: string;
  readonly key: string;
}

const BUCKET_RE = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * Parse an `s3://bucket/key` URI, refusing anything that could address objects
 * outside what the user named: `..` or `.` segments, empty segments, backslashes,
 * control characters.
 */
export function parseS3Uri(uri: string): S3Location {
  const m = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(uri);
  if (!m) {
    throw new InvalidKeyError(
      `Invalid S3 URI "${uri}": expected s3://<bucket>/<key>, for example s3://my-bucket/input/`,
      { context: { uri } },
    );
  }
  const bucket = m[1] as string;
  const key = m[2] ?? '';
  if (!BUCKET_RE.test(bucket)) {
    throw new InvalidKeyError(
      `Invalid S3 URI "${uri}": "${bucket}" is not a valid bucket name (3-63 lowercase letters, digits, dots, dashes).`,
      { context: { uri } },
    );
  }
  validateKey(key, uri);
  return { bucket, key };
}

/** Throw InvalidKeyError when a key has `..`/`.` segments, `//`, backslashes or control bytes. */
export function validateKey(key: string, shownAs: string = key, what = 'S3 key'): void {
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  if (/[\u0000-\u001f\u007f\\]/.test(key)) {
    throw new InvalidKeyError(`Invalid ${what} "${shownAs}": control characters and backslashes are not allowed.`, {
      context: { key },
    });
  }
  const segments = key.split('/');
  // A trailing slash (prefix) leaves one empty last segment, which is fine.
  const inner = key.endsWith('/') ? segments.slice(0, -1) : segments;
  if (key.length > 0 && inner.some((s) => s === '..' || s === '.' || s === '')) {
    throw new InvalidKeyError(
      `Invalid ${what} "${shownAs}": ".", ".." and empty path segments are not allowed; name the object directly.`,
      { context: { key } },
    );
  }
}

export function formatS3Uri(loc: S3Location): string {
  return `s3://${loc.bucket}/${loc.key}`;
}

/** The location as a prefix: empty or ending with `/`. */
export function asPrefix(loc: S3Location): S3Location {
  return { bucket: loc.bucket, key: loc.key === '' || loc.key.endsWith('/') ? loc.key : `${loc.key}/` };
}

/** Throw unless `key` lies under `prefix` (both already validated). */
export function assertUnderPrefix(key: string, prefix: string): void {
  validateKey(key);
  if (!key.startsWith(prefix)) {
    throw new InvalidKeyError(`S3 key "${key}" is outside the job's prefix "${prefix}".`, {
      context: { key, prefix },
    });
  }
}
