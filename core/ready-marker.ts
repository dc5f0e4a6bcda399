/**
 * The body of an `incoming/<pipeline>/<batch>/_READY` marker. Empty (or any text
 * that is not a JSON object): the batch is complete, run it now, so `_READY` must
 * be uploaded last. A JSON object says what the batch holds, and the coordinator
 * waits, bounded, until all of it has landed:
 *
 *   {"expectedObjects": 3}                        at least 3 data objects in the batch folder
 *   {"keys": ["a.csv", "day/b.csv"]}              these keys, relative to the batch folder
 *   {"expectedObjects": 3, "timeoutSeconds": 120} fail the job after 120 s (default 900)
 */
import { z } from 'zod';
import { ManifestError } from './errors.js';
import { jsonDepthExceeds } from './manifest-limits.js';

export const READY_LIMITS = {
  maxBodyBytes: 1024 * 1024,
  maxKeys: 10_000,
  defaultTimeoutSeconds: 900,
  maxTimeoutSeconds: 3600,
  /** How often the coordinator looks again at a batch still landing. */
  recheckSeconds: 2,
} as const;

const ReadySchema = z
  .strictObject({
    expectedObjects: z.number().int().min(1).max(1_000_000).optional(),
    keys: z.array(z.string().min(1).max(1024)).min(1).max(READY_LIMITS.maxKeys).optional(),
    timeoutSeconds: z.number().int().min(1).max(READY_LIMITS.maxTimeoutSeconds).default(READY_LIMITS.defaultTimeoutSeconds),
  })
  .refine((r) => r.expectedObjects !== undefined || r.keys !== undefined, 'give "expectedObjects" or "keys"');

export type ReadySpec = z.output<typeof ReadySchema>;

/** The batch's expectation, or undefined when the marker carries none (run at once). */
export function parseReadyMarker(text: string): ReadySpec | undefined {
  if (!text.trimStart().startsWith('{')) return undefined;
  if (text.length > READY_LIMITS.maxBodyBytes) {
    throw new ManifestError([`_READY: the marker is ${text.length} characters; the limit is ${READY_LIMITS.maxBodyBytes}`]);
  }
  if (jsonDepthExceeds(text, 4)) throw new ManifestError(['_READY: JSON nested deeper than 4 levels']);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ManifestError([`_READY: not valid JSON: ${(err as Error).message}`], { cause: err });
  }
  const r = ReadySchema.safeParse(raw);
  if (!r.success) {
    throw new ManifestError(r.error.issues.map((i) => `_READY: ${i.path.length ? `${i.path.join('.')}: ` : ''}${i.message}`));
  }
  return r.data;
}

/** What is still missing from a batch, given the relative keys of its data objects now; [] when complete. */
export function missingFromBatch(spec: ReadySpec, landed: readonly string[]): string[] {
  const have = new Set(landed);
  const missing = (spec.keys ?? []).filter((k) => !have.has(k));
  if (spec.expectedObjects !== undefined && landed.length < spec.expectedObjects) {
    missing.push(`${spec.expectedObjects - landed.length} more object(s) (${landed.length} of ${spec.expectedObjects} landed)`);
  }
  return missing;
}
