/**
 * Hadoop job configuration (`-D key=value`, the manifest's `jobconf`): the values of
 * the keys we honour (core/jobconf-keys.ts), read with Hadoop's meaning and defaults.
 *
 * Unknown keys are kept and exported to tasks, as Hadoop does. A recognised key with
 * a bad value is a UsageError that names the key and the expected form.
 */
import { UsageError } from './errors.js';
import { type JobConf, JobConfKeys, normalizeJobConf } from './jobconf-keys.js';
import { parseKeyFieldOptions, type KeyFieldOptions } from './key-fields.js';
import { DEFAULT_REDUCE_SLOWSTART } from './slow-start.js';
import { DEFAULT_MAX_SPLITS_SAMPLED, DEFAULT_NUM_SAMPLES } from './total-order.js';

/** Caps on the total-order sample, so the coordinator's sampling stays within a Lambda's time and memory. */
export const MAX_TOTAL_ORDER_SAMPLES = 100_000;
export const MAX_TOTAL_ORDER_SPLITS = 100;

const PARTITIONERS: Readonly<Record<string, 'hash' | 'keyfield' | 'totalorder'>> = {
  'org.apache.hadoop.mapred.lib.HashPartitioner': 'hash',
  'org.apache.hadoop.mapreduce.lib.partition.HashPartitioner': 'hash',
  HashPartitioner: 'hash',
  hash: 'hash',
  'org.apache.hadoop.mapred.lib.KeyFieldBasedPartitioner': 'keyfield',
  'org.apache.hadoop.mapreduce.lib.partition.KeyFieldBasedPartitioner': 'keyfield',
  KeyFieldBasedPartitioner: 'keyfield',
  keyfield: 'keyfield',
  'org.apache.hadoop.mapred.lib.TotalOrderPartitioner': 'totalorder',
  'org.apache.hadoop.mapreduce.lib.partition.TotalOrderPartitioner': 'totalorder',
  TotalOrderPartitioner: 'totalorder',
  'total-order': 'totalorder',
};

const COMPARATORS: Readonly<Record<string, 'bytes' | 'keyfield'>> = {
  'org.apache.hadoop.mapred.lib.KeyFieldBasedComparator': 'keyfield',
  'org.apache.hadoop.mapreduce.lib.partition.KeyFieldBasedComparator': 'keyfield',
  KeyFieldBasedComparator: 'keyfield',
  keyfield: 'keyfield',
  'org.apache.hadoop.io.Text$Comparator': 'bytes',
  bytes: 'bytes',
};

/** The default extension of Hadoop's GzipCodec: compressed parts are `part-00000.gz`. */
export const GZIP_EXTENSION = '.gz';

const GZIP_CODECS = new Set(['org.apache.hadoop.io.compress.GzipCodec', 'gzip', 'GzipCodec']);

/** The sampling of a total-order job (Hadoop's SplitSampler arguments). */
export interface TotalOrderSampling {
  readonly numSamples: number;
  readonly maxSplitsSampled: number;
}

/** The job configuration as the framework applies it. */
export interface StreamingSettings {
  readonly mapOutputSeparator: string;
  readonly mapOutputKeyFields: number;
  readonly reduceInputSeparator: string;
  readonly reduceOutputSeparator: string;
  readonly reduceOutputKeyFields: number;
  readonly keyFieldSeparator: string;
  /** KeyFieldBasedPartitioner options, or undefined for hashing the whole key. */
  readonly partitioner: KeyFieldOptions | undefined;
  /** Set for TotalOrderPartitioner: how many keys the coordinator samples, and from how many splits. */
  readonly totalOrder: TotalOrderSampling | undefined;
  /** KeyFieldBasedComparator options, or undefined for byte order of the whole key. */
  readonly comparator: KeyFieldOptions | undefined;
  readonly reduces: number | undefined;
  readonly mapsHint: number | undefined;
  readonly mapMaxAttempts: number | undefined;
  readonly reduceMaxAttempts: number | undefined;
  /** Milliseconds without progress before an attempt fails; 0 = never (Hadoop's meaning). */
  readonly taskTimeoutMs: number | undefined;
  /** Most streams a reducer merges at once (undefined: the default, DEFAULT_SORT_FACTOR). */
  readonly sortFactor: number | undefined;
  /** Fraction (0..1) of maps committed before the reduces start; DEFAULT_REDUCE_SLOWSTART (1) when unset. */
  readonly reduceSlowStart: number;
  readonly nonZeroExitIsFailure: boolean;
  readonly recursive: boolean;
  readonly ignoreSubdirs: boolean;
  readonly compressOutput: boolean;
  /** Keep the job's tmp/ objects after it succeeded (mapreduce.task.files.preserve.filepattern is set). */
  readonly preserveTaskFiles: boolean;
  /** Things Hadoop would also accept but that likely do not do what the user meant. */
  readonly warnings: readonly string[];
}

/** Read and validate the recognised keys; every bad value is listed in one UsageError. */
export function interpretJobConf(raw: JobConf): StreamingSettings {
  const conf = normalizeJobConf(raw);
  const problems: string[] = [];
  const warnings: string[] = [];
  const K = JobConfKeys;

  const str = (key: string, fallback: string): string => {
    const v = conf[key];
    if (v === undefined) return fallback;
    if (v === '') {
      problems.push(`${key} must not be empty`);
      return fallback;
    }
    return v;
  };
  const int = (key: string, min: number): number | undefined => {
    const v = conf[key];
    if (v === undefined) return undefined;
    const t = v.trim();
    if (!/^\d+$/.test(t) || !Number.isSafeInteger(Number(t)) || Number(t) < min) {
      problems.push(`${key} must be a whole number >= ${min}, got ${JSON.stringify(v)}`);
      return undefined;
    }
    return Number(t);
  };
  const fraction = (key: string, fallback: number): number => {
    const v = conf[key];
    if (v === undefined) return fallback;
    const t = v.trim();
    const n = Number(t);
    if (t === '' || !/^[0-9.eE+-]+$/.test(t) || !Number.isFinite(n) || n < 0 || n > 1) {
      problems.push(`${key} must be a fraction from 0 to 1 (e.g. 0.05, 0.5, 1.0), got ${JSON.stringify(v)}`);
      return fallback;
    }
    return n;
  };
  const bool = (key: string, fallback: boolean): boolean => {
    const v = conf[key];
    if (v === undefined) return fallback;
    const t = v.trim().toLowerCase();
    if (t === 'true') return true;
    if (t === 'false') return false;
    problems.push(`${key} must be true or false, got ${JSON.stringify(v)}`);
    return fallback;
  };
  const options = (key: string): KeyFieldOptions | undefined => {
    const v = conf[key];
    if (v === undefined) return undefined;
    try {
      return parseKeyFieldOptions(v);
    } catch (err) {
      problems.push(`${key}: ${(err as Error).message}`);
      return undefined;
    }
  };
  const pick = <T extends string>(key: string, table: Readonly<Record<string, T>>, what: string): T | undefined => {
    const v = conf[key];
    if (v === undefined) return undefined;
    const kind = table[v.trim()];
    if (kind === undefined) {
      problems.push(`${key}: unsupported ${what} ${JSON.stringify(v)} (supported: ${Object.keys(table).join(', ')})`);
    }
    return kind;
  };

  const partitionerKind = pick(K.PARTITIONER_CLASS, PARTITIONERS, 'partitioner');
  const comparatorKind = pick(K.COMPARATOR_CLASS, COMPARATORS, 'comparator');
  const partitionerOptions = options(K.PARTITIONER_OPTIONS);
  const comparatorOptions = options(K.COMPARATOR_OPTIONS);
  // Hadoop reads the options only when the class that uses them is selected.
  if (partitionerOptions && partitionerKind !== 'keyfield') {
    warnings.push(
      `${K.PARTITIONER_OPTIONS} is ignored without --partitioner KeyFieldBasedPartitioner (as in Hadoop); records are hashed on the whole key`,
    );
  }
  if (comparatorOptions && comparatorKind !== 'keyfield') {
    warnings.push(
      `${K.COMPARATOR_OPTIONS} is ignored without --comparator KeyFieldBasedComparator (as in Hadoop); keys sort by their bytes`,
    );
  }
  const samples = int(K.TOTAL_ORDER_SAMPLES, 1);
  const maxSplits = int(K.TOTAL_ORDER_MAX_SPLITS, 1);
  if ((samples !== undefined || maxSplits !== undefined) && partitionerKind !== 'totalorder') {
    warnings.push(`${K.TOTAL_ORDER_SAMPLES} and ${K.TOTAL_ORDER_MAX_SPLITS} are ignored without --partitioner total-order`);
  }
  if (conf['mapreduce.totalorderpartitioner.path'] !== undefined) {
    warnings.push(
      'mapreduce.totalorderpartitioner.path is not read: the coordinator samples the input and computes the split points itself',
    );
  }
  const emptyOptions: KeyFieldOptions = { specs: [] };
  const timeout = int(K.TASK_TIMEOUT, 0);
  const codec = conf[K.OUTPUT_CODEC];
  const compressOutput = bool(K.OUTPUT_COMPRESS, false);
  if (compressOutput && codec !== undefined && !GZIP_CODECS.has(codec.trim())) {
    problems.push(`${K.OUTPUT_CODEC}: only org.apache.hadoop.io.compress.GzipCodec is supported, got ${JSON.stringify(codec)}`);
  }
  const settings: StreamingSettings = {
    mapOutputSeparator: str(K.MAP_OUTPUT_SEPARATOR, '\t'),
    mapOutputKeyFields: int(K.MAP_OUTPUT_KEY_FIELDS, 1) ?? 1,
    reduceInputSeparator: str(K.REDUCE_INPUT_SEPARATOR, '\t'),
    reduceOutputSeparator: str(K.REDUCE_OUTPUT_SEPARATOR, '\t'),
    reduceOutputKeyFields: int(K.REDUCE_OUTPUT_KEY_FIELDS, 1) ?? 1,
    keyFieldSeparator: str(K.KEY_FIELD_SEPARATOR, '\t'),
    partitioner: partitionerKind === 'keyfield' ? (partitionerOptions ?? emptyOptions) : undefined,
    comparator: comparatorKind === 'keyfield' ? (comparatorOptions ?? emptyOptions) : undefined,
    totalOrder:
      partitionerKind === 'totalorder'
        ? {
            numSamples: Math.min(samples ?? DEFAULT_NUM_SAMPLES, MAX_TOTAL_ORDER_SAMPLES),
            maxSplitsSampled: Math.min(maxSplits ?? DEFAULT_MAX_SPLITS_SAMPLED, MAX_TOTAL_ORDER_SPLITS),
          }
        : undefined,
    reduces: int(K.REDUCES, 0),
    mapsHint: int(K.MAPS, 1),
    mapMaxAttempts: int(K.MAP_MAX_ATTEMPTS, 1),
    reduceMaxAttempts: int(K.REDUCE_MAX_ATTEMPTS, 1),
    taskTimeoutMs: timeout,
    sortFactor: int(K.SORT_FACTOR, 2),
    reduceSlowStart: fraction(K.REDUCE_SLOWSTART, DEFAULT_REDUCE_SLOWSTART),
    nonZeroExitIsFailure: bool(K.NON_ZERO_EXIT_IS_FAILURE, true),
    recursive: bool(K.INPUT_RECURSIVE, false),
    ignoreSubdirs: bool(K.IGNORE_SUBDIRS, false),
    compressOutput,
    preserveTaskFiles: (conf[K.PRESERVE_TASK_FILES] ?? '').trim() !== '',
    warnings,
  };
  for (const key of [K.MAP_OUTPUT_SEPARATOR, K.REDUCE_INPUT_SEPARATOR, K.REDUCE_OUTPUT_SEPARATOR, K.KEY_FIELD_SEPARATOR]) {
    if (conf[key]?.includes('\n')) problems.push(`${key} must not contain a newline`);
  }
  if (problems.length > 0) {
    throw new UsageError(`Invalid job configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`, {
      context: { keys: Object.keys(raw) },
    });
  }
  return settings;
}

/** The default settings (an empty configuration). */
export const DEFAULT_STREAMING_SETTINGS: StreamingSettings = interpretJobConf({});

/**
 * True when map output needs the key-field layer: the key is not simply the text
 * before the first tab, or it sorts or partitions other than by its bytes.
 */
export function usesKeyFields(s: StreamingSettings): boolean {
  return (
    s.mapOutputSeparator !== '\t' ||
    s.mapOutputKeyFields !== 1 ||
    s.reduceInputSeparator !== '\t' ||
    s.partitioner !== undefined ||
    s.comparator !== undefined
  );
}
