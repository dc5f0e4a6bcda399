/**
 * The Hadoop job configuration keys we honour (`-D key=value`, the manifest's `jobconf`),
 * their Hadoop 1 names, and the environment names Hadoop Streaming exports every key as.
 */

/** A job configuration: Hadoop key → string value. */
export type JobConf = Readonly<Record<string, string>>;

/** The keys we honour (Hadoop 2+/3 names). */
export const JobConfKeys = {
  MAP_OUTPUT_SEPARATOR: 'stream.map.output.field.separator',
  MAP_OUTPUT_KEY_FIELDS: 'stream.num.map.output.key.fields',
  REDUCE_INPUT_SEPARATOR: 'stream.reduce.input.field.separator',
  REDUCE_OUTPUT_SEPARATOR: 'stream.reduce.output.field.separator',
  REDUCE_OUTPUT_KEY_FIELDS: 'stream.num.reduce.output.key.fields',
  KEY_FIELD_SEPARATOR: 'mapreduce.map.output.key.field.separator',
  PARTITIONER_OPTIONS: 'mapreduce.partition.keypartitioner.options',
  COMPARATOR_OPTIONS: 'mapreduce.partition.keycomparator.options',
  PARTITIONER_CLASS: 'mapreduce.job.partitioner.class',
  COMPARATOR_CLASS: 'mapreduce.job.output.key.comparator.class',
  REDUCES: 'mapreduce.job.reduces',
  MAPS: 'mapreduce.job.maps',
  MAP_MAX_ATTEMPTS: 'mapreduce.map.maxattempts',
  REDUCE_MAX_ATTEMPTS: 'mapreduce.reduce.maxattempts',
  TASK_TIMEOUT: 'mapreduce.task.timeout',
  /** The reduce merge's fan-in (the manifest's `sortFactor`). */
  SORT_FACTOR: 'mapreduce.task.io.sort.factor',
  /** Fraction of a step's maps committed before its reduces start (core/slow-start.ts). */
  REDUCE_SLOWSTART: 'mapreduce.job.reduce.slowstart.completedmaps',
  NON_ZERO_EXIT_IS_FAILURE: 'stream.non.zero.exit.is.failure',
  INPUT_RECURSIVE: 'mapreduce.input.fileinputformat.input.dir.recursive',
  IGNORE_SUBDIRS: 'mapreduce.input.fileinputformat.input.dir.nonrecursive.ignore.subdirs',
  OUTPUT_COMPRESS: 'mapreduce.output.fileoutputformat.compress',
  OUTPUT_CODEC: 'mapreduce.output.fileoutputformat.compress.codec',
  /** Set (any pattern): a succeeded job keeps its tmp/ objects until the expiry rule (services/tmp-cleanup.ts). */
  PRESERVE_TASK_FILES: 'mapreduce.task.files.preserve.filepattern',
  /**
   * Total-order sampling (ours: Hadoop's InputSampler takes these as the arguments of
   * `-splitSample numSamples maxSplitsSampled`, not as jobconf keys).
   */
  TOTAL_ORDER_SAMPLES: 'mapreduce.totalorderpartitioner.samples',
  TOTAL_ORDER_MAX_SPLITS: 'mapreduce.totalorderpartitioner.max.splits.sampled',
} as const;

/**
 * Hadoop 1 names still found in old job scripts, mapped to the current name
 * (Hadoop's own deprecation table; only those of the keys above).
 */
const DEPRECATED_KEYS: Readonly<Record<string, string>> = {
  'map.output.key.field.separator': JobConfKeys.KEY_FIELD_SEPARATOR,
  'mapred.text.key.partitioner.options': JobConfKeys.PARTITIONER_OPTIONS,
  'mapred.text.key.comparator.options': JobConfKeys.COMPARATOR_OPTIONS,
  'mapred.partitioner.class': JobConfKeys.PARTITIONER_CLASS,
  'mapred.output.key.comparator.class': JobConfKeys.COMPARATOR_CLASS,
  'mapred.reduce.tasks': JobConfKeys.REDUCES,
  'mapred.map.tasks': JobConfKeys.MAPS,
  'mapred.map.max.attempts': JobConfKeys.MAP_MAX_ATTEMPTS,
  'mapred.reduce.max.attempts': JobConfKeys.REDUCE_MAX_ATTEMPTS,
  'mapred.task.timeout': JobConfKeys.TASK_TIMEOUT,
  'io.sort.factor': JobConfKeys.SORT_FACTOR,
  'mapred.reduce.slowstart.completed.maps': JobConfKeys.REDUCE_SLOWSTART,
  'mapred.input.dir.recursive': JobConfKeys.INPUT_RECURSIVE,
  'mapred.output.compress': JobConfKeys.OUTPUT_COMPRESS,
  'mapred.output.compression.codec': JobConfKeys.OUTPUT_CODEC,
};

/** The configuration with Hadoop 1 key names rewritten to the current ones (current names win). */
export function normalizeJobConf(conf: JobConf): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(conf)) {
    const current = DEPRECATED_KEYS[k];
    if (current === undefined) out[k] = v;
    else if (!(current in conf)) out[current] = v;
  }
  return out;
}

/**
 * The environment variable Hadoop Streaming exports a configuration key as:
 * every character that is not an ASCII letter or digit becomes '_'
 * (`mapreduce.job.id` → `mapreduce_job_id`).
 */
export function envNameOf(key: string): string {
  return key.replace(/[^A-Za-z0-9]/g, '_');
}
