/**
 * Hadoop's FileInputFormat input rules over S3 keys (and, on a local stack, over
 * `file://` paths, listed as keys under LOCAL_FILES_BUCKET: core/input-uri.ts):
 *
 * - an input may be several values, each a comma-separated list (commas inside
 *   `{a,b}` belong to the glob), each an object, a "directory" (prefix) or a glob
 *   (`*`, `?`, `[abc]`, `[^a]`, `{a,b}`, `\` escapes; `*` never crosses '/');
 * - names starting with `_` or `.` are hidden and skipped (`_SUCCESS`, `_logs/`,
 *   `.crc`), in directories, below them and among glob matches;
 * - a directory's subdirectories are read only when `recursive` is set; otherwise a
 *   subdirectory is an error (as Hadoop's "Not a file"), or skipped with `ignoreSubdirs`;
 * - an input that matches nothing is an error naming it (a directory holding only
 *   hidden files is an empty input, not an error).
 *
 * Listing is injected (`list(bucket, prefix)`), so these rules are pure.
 */
import { InvalidKeyError } from './errors.js';
import { inputUriOf, isFileUri, LOCAL_FILES_BUCKET } from './input-uri.js';

/** An S3 object as listed. */
export interface ListedObject {
  readonly bucket: string;
  readonly key: string;
  readonly size: number;
}

/** Lists every object whose key starts with `prefix`. */
export type ListObjects = (bucket: string, prefix: string) => Promise<readonly ListedObject[]>;

export interface InputRules {
  readonly recursive: boolean;
  readonly ignoreSubdirs?: boolean;
}

/** Split input values on commas outside braces, as Hadoop's FileInputFormat does. */
export function splitInputList(values: readonly string[]): string[] {
  const out: string[] = [];
  for (const value of values) {
    let depth = 0;
    let start = 0;
    for (let i = 0; i < value.length; i++) {
      const ch = value[i];
      if (ch === '\\') i++;
      else if (ch === '{') depth++;
      else if (ch === '}' && depth > 0) depth--;
      else if (ch === ',' && depth === 0) {
        out.push(value.slice(start, i));
        start = i + 1;
      }
    }
    out.push(value.slice(start));
  }
  return out.map((v) => v.trim()).filter((v) => v !== '');
}

/** True for a name Hadoop's hidden-file filter skips. */
function isHiddenName(name: string): boolean {
  return name.startsWith('_') || name.startsWith('.');
}

/** True when `path` holds an unescaped glob character. */
function hasGlob(path: string): boolean {
  for (let i = 0; i < path.length; i++) {
    const ch = path[i];
    if (ch === '\\') i++;
    else if (ch === '*' || ch === '?' || ch === '[' || ch === '{') return true;
  }
  return false;
}

const escapeRe = (ch: string) => ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** A RegExp matching exactly the paths a Hadoop glob matches. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  let braces = 0;
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i]!;
    if (ch === '\\' && i + 1 < glob.length) re += escapeRe(glob[++i]!);
    else if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else if (ch === '{') {
      braces++;
      re += '(?:';
    } else if (ch === '}' && braces > 0) {
      braces--;
      re += ')';
    } else if (ch === ',' && braces > 0) re += '|';
    else if (ch === '[') {
      const close = glob.indexOf(']', i + 2);
      if (close < 0) throw new InvalidKeyError(`Unclosed [ in input glob ${JSON.stringify(glob)}`);
      let body = glob.slice(i + 1, close);
      const negate = body.startsWith('^') || body.startsWith('!');
      if (negate) body = body.slice(1);
      re += `[${negate ? '^/' : ''}${body.replace(/[\\\]]/g, '\\$&')}]`;
      i = close;
    } else re += escapeRe(ch);
  }
  if (braces > 0) throw new InvalidKeyError(`Unclosed { in input glob ${JSON.stringify(glob)}`);
  return new RegExp(`^${re}$`);
}

/** The literal directory part of a glob, up to its last '/' before the first glob character. */
function literalPrefix(glob: string): string {
  let i = 0;
  for (; i < glob.length; i++) {
    const ch = glob[i];
    if (ch === '\\') i++;
    else if (ch === '*' || ch === '?' || ch === '[' || ch === '{') break;
  }
  const slash = glob.lastIndexOf('/', i);
  return slash < 0 ? '' : glob.slice(0, slash + 1).replace(/\\(.)/g, '$1');
}

/** An input URI cut to the folder before its first wildcard (the URI itself without one). */
export function globBase(uri: string): string {
  const m = /^(s3:\/\/[^/]+\/?|file:\/\/\/)(.*)$/.exec(uri);
  if (!m || !hasGlob(m[2]!)) return uri;
  return `${m[1]}${literalPrefix(m[2]!)}`;
}

/**
 * The objects under directory `dir` (a prefix ending in '/' or '') by the
 * directory rules; throws on a subdirectory unless recursive or ignoreSubdirs.
 */
function directoryFiles(dir: string, listed: readonly ListedObject[], rules: InputRules, input: string): ListedObject[] {
  const out: ListedObject[] = [];
  for (const o of listed) {
    if (!o.key.startsWith(dir) || o.key.endsWith('/')) continue; // folder markers are not files
    const parts = o.key.slice(dir.length).split('/');
    if (parts.some(isHiddenName)) continue;
    if (parts.length > 1 && !rules.recursive) {
      if (rules.ignoreSubdirs) continue;
      throw new InvalidKeyError(
        `Input ${input} holds a subdirectory (${inputUriOf({ bucket: o.bucket, key: `${dir}${parts[0]}/` })}); Hadoop reads subdirectories only ` +
          `with --recursive (mapreduce.input.fileinputformat.input.dir.recursive=true)`,
        { context: { input, key: o.key } },
      );
    }
    out.push(o);
  }
  return out;
}

/** Parse `s3://bucket/path` or `file:///path` without validating the path (globs are allowed). */
function splitUri(uri: string): { bucket: string; path: string } {
  if (isFileUri(uri)) {
    const f = /^file:\/\/\/(.*)$/.exec(uri);
    if (!f) throw new InvalidKeyError(`Input ${JSON.stringify(uri)} is not a file:// URI of an absolute path`);
    return { bucket: LOCAL_FILES_BUCKET, path: f[1]! };
  }
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!m) throw new InvalidKeyError(`Input ${JSON.stringify(uri)} is not an s3:// URI`);
  return { bucket: m[1]!, path: m[2]! };
}

/** The objects one input (object, directory or glob) stands for. */
async function resolveOne(
  uri: string,
  list: ListObjects,
  rules: InputRules,
): Promise<{ files: ListedObject[]; exists: boolean }> {
  const { bucket, path } = splitUri(uri);
  if (!hasGlob(path)) {
    const trimmed = path.replace(/\/+$/, '');
    const listed = await list(bucket, trimmed);
    const exact = trimmed === '' ? undefined : listed.find((o) => o.key === trimmed && !path.endsWith('/'));
    if (exact) {
      const name = trimmed.slice(trimmed.lastIndexOf('/') + 1);
      return { files: isHiddenName(name) ? [] : [exact], exists: !isHiddenName(name) };
    }
    const dir = trimmed === '' ? '' : `${trimmed}/`;
    // A directory that exists but holds only hidden files is an empty input, as in Hadoop.
    return { files: directoryFiles(dir, listed, rules, uri), exists: listed.some((o) => o.key.startsWith(dir)) };
  }
  const glob = path.replace(/\/+$/, '');
  const re = globToRegExp(glob);
  const depth = glob.split('/').length;
  const listed = await list(bucket, literalPrefix(glob));
  const files: ListedObject[] = [];
  const dirs = new Set<string>();
  for (const o of listed) {
    const parts = o.key.split('/');
    if (parts.length < depth) continue;
    const candidate = parts.slice(0, depth).join('/');
    if (!re.test(candidate) || parts.slice(0, depth).some(isHiddenName)) continue;
    if (parts.length === depth) files.push(o);
    else dirs.add(`${candidate}/`);
  }
  for (const dir of [...dirs].sort()) {
    files.push(...directoryFiles(dir, listed, rules, inputUriOf({ bucket, key: dir })));
  }
  return { files, exists: files.length > 0 || dirs.size > 0 };
}

/**
 * Every input object of the job, each once, by bucket and key. Throws
 * InvalidKeyError naming an input that matches no file.
 */
export async function resolveInputs(
  values: readonly string[],
  list: ListObjects,
  rules: InputRules,
): Promise<ListedObject[]> {
  const seen = new Map<string, ListedObject>();
  for (const uri of splitInputList(values)) {
    const { files, exists } = await resolveOne(uri, list, rules);
    if (!exists) {
      throw new InvalidKeyError(
        hasGlob(uri)
          ? `Input ${uri} matches no files (hidden _* and .* names are skipped, as in Hadoop): check the pattern.`
          : `Input ${uri} does not exist (no object or prefix with that name): check the URI.`,
        { context: { input: uri } },
      );
    }
    for (const o of files) seen.set(`${o.bucket}/${o.key}`, o);
  }
  return [...seen.values()].sort((a, b) =>
    a.bucket !== b.bucket ? (a.bucket < b.bucket ? -1 : 1) : a.key < b.key ? -1 : a.key > b.key ? 1 : 0,
  );
}
