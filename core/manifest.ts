import { z } from 'zod';
import { ManifestError } from './errors.js';
import { splitInputList } from './input-listing.js';
import { parseInputUri } from './input-uri.js';
import { applyJobConf, jobConfIssues, overlayJobConf, ownJobConf, settingsOf, type StepJobConf } from './job-settings.js';
import { parseS3Uri } from './s3uri.js';
import { speculativeFromJobConf } from './speculation.js';
import { MANIFEST_LIMITS, parseManifestJson } from './manifest-limits.js';
import { describeIssue, MAPPER_REQUIRED } from './manifest-messages.js';

const L = MANIFEST_LIMITS;

/**
 * How a mapper, reducer or combiner runs:
 * - a string is a Hadoop-Streaming command line, split like argv and spawned
 *   without a shell (its first word is a shipped file or a program on PATH);
 * - `{ module }` names a shipped JavaScript module (the CLI bundles .ts files)
 *   whose `map`, `reduce` or `combine` export runs in-process.
 */
const StepSchema = z.union([
  z.string().trim().min(1, 'must be a non-empty command line').max(L.maxCommandChars, `must be at most ${L.maxCommandChars} characters`),
  z.strictObject({ module: z.string().min(1, 'must name a shipped .mjs/.js file') }),
]);

const S3UriString = z.string().max(L.maxUriChars, `must be at most ${L.maxUriChars} characters`).superRefine((value, ctx) => {
  try {
    parseS3Uri(value);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
  }
});

/**
 * An input value: an s3:// URI or a comma list of them, each may hold globs (Hadoop's
 * -input); `file://` URIs too, which only a local stack's coordinator accepts
 * (services/submission.ts).
 */
const InputUriString = z.string().superRefine((value, ctx) => {
  const uris = splitInputList([value]);
  if (uris.length === 0) ctx.addIssue({ code: 'custom', message: 'must be an s3:// URI' });
  for (const uri of uris) {
    try {
      parseInputUri(uri);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  }
});

const JobConfSchema = z.record(z.string(), z.string());
/** A step's jobconf: null removes a job-wide key for the step (mrjob's step jobconf `None`). */
const StepJobConfSchema = z.record(z.string(), z.string().nullable());
const NumReducersSchema = z.number().int('must be a whole number').min(0, 'must be at least 0').max(10_000);

/**
 * One step of a multi-step job (`steps: [...]`): its own mapper, combiner, reducer,
 * reducer count and jobconf. The step's jobconf overrides the job-wide one for that step
 * (a null value removes a job-wide key for the step); its numReducers defaults to the
 * job-wide numReducers.
 */
const StepDefSchema = z.strictObject({
  mapper: StepSchema,
  reducer: StepSchema.optional(),
  combiner: StepSchema.optional(),
  numReducers: NumReducersSchema.optional(),
  jobconf: StepJobConfSchema.default({}),
});

const ManifestFieldsSchema = z
  .strictObject({
    name: z.string().max(L.maxNameChars, `must be at most ${L.maxNameChars} characters`).optional(),
    /** Objects, prefixes ("directories") or globs; comma lists allowed (core/input-listing.ts). */
    input: z.union([
      InputUriString,
      z
        .array(InputUriString)
        .min(1, 'must list at least one object')
        .max(L.maxInputs, `must list at most ${L.maxInputs} inputs`),
    ]),
    output: S3UriString,
    /** A single-step job's mapper; give either this (with reducer/combiner) or `steps`. */
    mapper: StepSchema.optional(),
    reducer: StepSchema.optional(),
    combiner: StepSchema.optional(),
    /** A multi-step job: step N's output is step N+1's input; only the last writes `output`. */
    steps: z
      .array(StepDefSchema)
      .min(1, 'must list at least one step')
      .max(L.maxSteps, `must list at most ${L.maxSteps} steps`)
      .optional(),
    /** s3:// URIs of files copied into every task's working directory (like Hadoop's -file). */
    files: z.array(S3UriString).max(L.maxFiles, `must list at most ${L.maxFiles} files`).default([]),
    /** 0 = map-only (Hadoop's -numReduceTasks 0), whatever `reducer` says. */
    numReducers: NumReducersSchema.default(1),
    splitSize: z.number().int('must be a whole number').min(1, 'must be at least 1 byte').optional(),
    numMappers: z
      .number()
      .int('must be a whole number')
      .min(1, 'must be at least 1')
      .max(L.maxMapTasks, `must be at most ${L.maxMapTasks} (the map-task limit of a job)`)
      .optional(),
    overwrite: z.boolean().default(false),
    maxAttempts: z.number().int().min(1).max(20).optional(),
    taskTimeoutSeconds: z.number().positive().optional(),
    /**
     * Most sorted streams a reducer merges at once (Hadoop's `mapreduce.task.io.sort.factor`;
     * default DEFAULT_SORT_FACTOR in core/merge-passes.ts). More map outputs are merged in
     * passes through local disk.
     */
    sortFactor: z.number().int('must be a whole number').min(2, 'must be at least 2').max(10_000).optional(),
    /** Extra environment for executables (Hadoop's -cmdenv). Never logged. */
    env: z
      .record(z.string().max(L.maxEnvKeyChars, `names must be at most ${L.maxEnvKeyChars} characters`), z.string())
      .default({}),
    /** Hadoop job configuration (-D key=value); see docs/hadoop-streaming.md. */
    jobconf: JobConfSchema.default({}),
    /** Speculative backup attempts (Hadoop's mapreduce.{map,reduce}.speculative): on unless false. */
    speculative: z.union([z.boolean(), z.strictObject({ map: z.boolean().optional(), reduce: z.boolean().optional() })]).optional(),
  })
  .superRefine((m, ctx) => {
    try {
      speculativeFromJobConf(m.jobconf);
    } catch (err) {
      ctx.addIssue({ code: 'custom', path: ['jobconf'], message: (err as Error).message });
    }
    const env = Object.entries(m.env);
    if (env.length > L.maxEnvEntries) {
      ctx.addIssue({ code: 'custom', path: ['env'], message: `must hold at most ${L.maxEnvEntries} variables (got ${env.length})` });
    }
    const envChars = env.reduce((n, [k, v]) => n + k.length + v.length, 0);
    if (envChars > L.maxEnvChars) {
      ctx.addIssue({ code: 'custom', path: ['env'], message: `must be at most ${L.maxEnvChars} characters in all (got ${envChars})` });
    }
    if (m.splitSize !== undefined && m.numMappers !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['numMappers'], message: 'give splitSize or numMappers, not both' });
    }
    for (const issue of stepIssues(m)) ctx.addIssue({ code: 'custom', ...issue });
  });

/** What a step of a job runs; every job has at least one (a single-step manifest is `steps: [it]`). */
export interface ManifestStep {
  readonly mapper: Step;
  readonly reducer?: Step;
  readonly combiner?: Step;
  /** Resolved: the step's own, else its jobconf's mapreduce.job.reduces, else the job-wide numReducers. */
  readonly numReducers: number;
  /** The step's own jobconf keys only (they override the job-wide jobconf for this step; null removes one). */
  readonly jobconf: StepJobConf;
}

type ManifestFields = z.output<typeof ManifestFieldsSchema>;

/**
 * A validated manifest with defaults applied, normalised: the job-wide fields and
 * `steps` (a single-step manifest's mapper/reducer/combiner become its one step), so
 * the rest of the code has one path. Validating it again gives it back unchanged.
 */
export type Manifest = Omit<ManifestFields, 'mapper' | 'reducer' | 'combiner' | 'steps'> & {
  readonly steps: readonly ManifestStep[];
};
export type Step = z.output<typeof StepSchema>;

/** The one place a manifest becomes steps (see Manifest). */
function normalise(raw: ManifestFields): Manifest {
  const m = applyJobConf(raw);
  const { mapper, reducer, combiner, steps, ...jobWide } = m;
  const defs = steps ?? [{ mapper: mapper!, reducer, combiner, jobconf: {} }];
  return {
    ...jobWide,
    steps: defs.map((d) => ({
      mapper: d.mapper,
      ...(d.reducer !== undefined ? { reducer: d.reducer } : {}),
      ...(d.combiner !== undefined ? { combiner: d.combiner } : {}),
      numReducers: applyJobConf({ jobconf: ownJobConf(d.jobconf), numReducers: ('numReducers' in d ? d.numReducers : undefined) ?? m.numReducers }).numReducers,
      jobconf: d.jobconf,
    })),
  };
}

/** Problems with the mapper/steps fields: exactly one form, and each step consistent. */
function stepIssues(m: ManifestFields): { path: PropertyKey[]; message: string }[] {
  const out: { path: PropertyKey[]; message: string }[] = [];
  if (m.steps !== undefined) {
    if (m.mapper !== undefined) out.push({ path: ['steps'], message: 'give either "mapper" (a single-step job) or "steps", not both' });
    for (const role of ['reducer', 'combiner'] as const) {
      if (m[role] !== undefined) out.push({ path: [role], message: `a multi-step job gives its ${role} inside each step, not at the top level` });
    }
  } else if (m.mapper === undefined) {
    out.push({ path: ['mapper'], message: MAPPER_REQUIRED });
    return out;
  }
  const defs = m.steps ?? [{ mapper: m.mapper, reducer: m.reducer, combiner: m.combiner, jobconf: {} }];
  defs.forEach((d, i) => {
    const at = (field: string): PropertyKey[] => (m.steps ? ['steps', i, field] : [field]);
    if (d.combiner !== undefined && d.reducer === undefined) out.push({ path: at('combiner'), message: 'a combiner needs a reducer' });
    const view = { ...d, numReducers: m.numReducers, jobconf: overlayJobConf(m.jobconf, d.jobconf) };
    for (const message of jobConfIssues(view)) out.push({ path: at('jobconf'), message });
    // Split points are sampled from the job's input when it is planned: a later step has none.
    if (i > 0 && d.reducer !== undefined && jobConfIssues(view).length === 0 && settingsOf(view).totalOrder) {
      out.push({ path: at('jobconf'), message: 'the total-order partitioner is supported in the first step only (its split points are sampled from the job input)' });
    }
  });
  return out;
}

export const ManifestSchema = ManifestFieldsSchema.transform(normalise);
export type ManifestInput = z.input<typeof ManifestSchema>;

/** Validate an already-parsed manifest object. Throws ManifestError naming every bad field. */
export function validateManifest(raw: unknown): Manifest {
  const result = ManifestSchema.safeParse(raw);
  if (!result.success) {
    const issues = result.error.issues.map((i) => describeIssue(i, raw));
    // The step checks run only on well-typed fields; a missing mapper is still worth naming.
    const r = raw as Record<string, unknown> | null;
    if (typeof r === 'object' && r !== null && r.mapper === undefined && r.steps === undefined && !issues.some((i) => i.startsWith('mapper:'))) {
      issues.push(`mapper: ${MAPPER_REQUIRED}`);
    }
    throw new ManifestError(issues);
  }
  return result.data;
}

/** Parse manifest JSON text (bytes from S3 or a file). Throws ManifestError on bad JSON, fields or limits. */
export function parseManifest(text: string): Manifest {
  return validateManifest(parseManifestJson(text));
}

/** True for a step with no reducer: its map output is its output, unsorted. */
export function isMapOnly(step: Pick<ManifestStep, 'mapper' | 'reducer' | 'numReducers'>): boolean {
  return step.reducer === undefined || step.numReducers === 0;
}
