/**
 * The input objects of a manifest, by Hadoop's FileInputFormat rules
 * (./input-listing.ts) with the job's recursion settings. A rule broken by the
 * input (nothing matches, a subdirectory without --recursive, a codec we cannot
 * read) is a ManifestError naming the input, so the job fails with that reason.
 */
import { codecOf } from './compression.js';
import { ManifestError, UsageError } from './errors.js';
import { type ListedObject, type ListObjects, resolveInputs } from './input-listing.js';
import { settingsOf } from './job-settings.js';
import type { Manifest } from './manifest.js';

export async function listInputObjects(m: Manifest, list: ListObjects): Promise<ListedObject[]> {
  const s = settingsOf(m);
  const values = typeof m.input === 'string' ? [m.input] : m.input;
  try {
    const objects = await resolveInputs(values, list, { recursive: s.recursive, ignoreSubdirs: s.ignoreSubdirs });
    for (const o of objects) codecOf(o.key);
    return objects;
  } catch (err) {
    if (err instanceof UsageError && !(err instanceof ManifestError)) {
      throw new ManifestError([`input: ${err.message}`], { cause: err });
    }
    throw err;
  }
}
