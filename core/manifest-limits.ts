// The limits of a submission and the checks on manifest JSON text made before any field is
// looked at (size, nesting), so hostile text is refused cheaply.
import { ManifestError } from './errors.js';

export const MIB = 1024 * 1024;
/** Bytes of input per map task when a manifest gives neither splitSize nor numMappers. */
export const DEFAULT_SPLIT_SIZE = 64 * MIB;

/**
 * Documented limits of a submission (docs/cli.md, "Limits"). A manifest over any
 * of them fails its job at once with a reason naming the limit; none is retried.
 */
export const MANIFEST_LIMITS = {
  /** Bytes of `jobs/<id>/job.json` (or of a pipeline config); checked before it is read. */
  maxManifestBytes: 256 * 1024,
  /** Nesting of JSON arrays and objects (a manifest needs 3 or 4; steps and jobconf fit in 8). */
  maxJsonDepth: 16,
  maxNameChars: 200,
  /** A mapper, reducer or combiner command line. */
  maxCommandChars: 16 * 1024,
  maxUriChars: 2048,
  maxInputs: 10_000,
  maxFiles: 1_000,
  maxEnvEntries: 256,
  maxEnvKeyChars: 256,
  /** All `env` keys and values together, in characters (the task environment stays small). */
  maxEnvChars: 64 * 1024,
  /** Map tasks of one job (splitSize: 1 on a 1 MiB object would be 1,048,576). */
  maxMapTasks: 10_000,
  /** Steps of a multi-step job (`steps`); each step is a MapReduce of its own. */
  maxSteps: 16,
} as const;

/**
 * The nesting depth of JSON text, without parsing it (JSON.parse of hostile text
 * can exhaust the stack), stopping as soon as it passes `max`. Brackets inside
 * strings do not count.
 */
export function jsonDepthExceeds(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/**
 * Manifest JSON text (a manifest or a pipeline config) → a JSON object, within the
 * size and nesting limits, before any field is looked at. Throws ManifestError.
 */
export function parseManifestJson(text: string): Record<string, unknown> {
  if (text.length > MANIFEST_LIMITS.maxManifestBytes) {
    throw new ManifestError([`the manifest is ${text.length} characters; the limit is ${MANIFEST_LIMITS.maxManifestBytes} bytes`]);
  }
  if (jsonDepthExceeds(text, MANIFEST_LIMITS.maxJsonDepth)) {
    throw new ManifestError([`JSON nested deeper than ${MANIFEST_LIMITS.maxJsonDepth} levels; a manifest needs only a few`]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ManifestError([`not valid JSON: ${(err as Error).message}`], { cause: err });
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ManifestError(['the manifest must be a JSON object']);
  }
  return raw as Record<string, unknown>;
}
