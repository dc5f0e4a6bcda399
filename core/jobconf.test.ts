import { describe, expect, it } from 'vitest';
import { UsageError } from './errors.js';
import { DEFAULT_STREAMING_SETTINGS, interpretJobConf, usesKeyFields } from './jobconf.js';
import { envNameOf, JobConfKeys, normalizeJobConf } from './jobconf-keys.js';
import { parseEnvPairs, parseJobConfPairs } from './jobconf-args.js';
import { DEFAULT_MAX_SPLITS_SAMPLED, DEFAULT_NUM_SAMPLES } from './total-order.js';

describe('parseEnvPairs', () => {
  it('reads NAME=VALUE (value may hold = or be empty) and refuses bad names', () => {
    expect(parseEnvPairs(['A=1', 'B_2=x=y', 'C='])).toEqual({ A: '1', B_2: 'x=y', C: '' });
    for (const bad of ['novalue', '1A=x', 'A-B=x', '=x']) expect(() => parseEnvPairs([bad])).toThrow(UsageError);
  });
});

describe('parseJobConfPairs', () => {
  it('keeps everything after the first = (empty values allowed); later pairs win', () => {
    expect(parseJobConfPairs(['a.b=1', 'c=x=y', 'e=', 'a.b=2'])).toEqual({ 'a.b': '2', c: 'x=y', e: '' });
  });
  it.each(['novalue', '=v', ' =v'])('rejects %j with a usage error', (bad) => {
    expect(() => parseJobConfPairs([bad])).toThrow(UsageError);
  });
});

describe('envNameOf', () => {
  it('turns every non-alphanumeric character into _', () => {
    expect(envNameOf('mapreduce.job.id')).toBe('mapreduce_job_id');
    expect(envNameOf('my-key.x:y/z')).toBe('my_key_x_y_z');
    expect(envNameOf('stream.map.output.field.separator')).toBe('stream_map_output_field_separator');
  });
});

describe('interpretJobConf', () => {
  it("has Hadoop's defaults", () => {
    expect(DEFAULT_STREAMING_SETTINGS).toMatchObject({
      mapOutputSeparator: '\t',
      mapOutputKeyFields: 1,
      reduceInputSeparator: '\t',
      keyFieldSeparator: '\t',
      partitioner: undefined,
      comparator: undefined,
      nonZeroExitIsFailure: true,
      recursive: false,
    });
    expect(usesKeyFields(DEFAULT_STREAMING_SETTINGS)).toBe(false);
  });

  it('reads recognised keys, including Hadoop 1 names, and keeps unknown keys out of the way', () => {
    const s = interpretJobConf({
      'mapred.reduce.tasks': '3',
      'mapreduce.task.timeout': '600000',
      'stream.non.zero.exit.is.failure': 'false',
      'mapred.text.key.partitioner.options': '-k1,1',
      'mapreduce.job.partitioner.class': 'KeyFieldBasedPartitioner',
      'my.own.key': 'anything',
    });
    expect(s).toMatchObject({ reduces: 3, taskTimeoutMs: 600000, nonZeroExitIsFailure: false });
    expect(s.partitioner?.specs).toHaveLength(1);
    expect(normalizeJobConf({ 'mapred.reduce.tasks': '3', 'mapreduce.job.reduces': '4' })).toEqual({
      'mapreduce.job.reduces': '4',
    });
  });

  it("reads TotalOrderPartitioner (Hadoop's class names or total-order) with InputSampler's defaults or the sampling keys", () => {
    for (const name of ['org.apache.hadoop.mapreduce.lib.partition.TotalOrderPartitioner', 'TotalOrderPartitioner', 'total-order']) {
      const s = interpretJobConf({ 'mapreduce.job.partitioner.class': name });
      expect(s.totalOrder).toEqual({ numSamples: DEFAULT_NUM_SAMPLES, maxSplitsSampled: DEFAULT_MAX_SPLITS_SAMPLED });
      expect(s.partitioner).toBeUndefined();
      expect(usesKeyFields(s)).toBe(false);
    }
    const tuned = interpretJobConf({
      'mapred.partitioner.class': 'total-order',
      [JobConfKeys.TOTAL_ORDER_SAMPLES]: '500',
      [JobConfKeys.TOTAL_ORDER_MAX_SPLITS]: '3',
    });
    expect(tuned.totalOrder).toEqual({ numSamples: 500, maxSplitsSampled: 3 });
    expect(() => interpretJobConf({ 'mapreduce.job.partitioner.class': 'total-order', [JobConfKeys.TOTAL_ORDER_SAMPLES]: '0' })).toThrow(
      JobConfKeys.TOTAL_ORDER_SAMPLES,
    );
    expect(interpretJobConf({ [JobConfKeys.TOTAL_ORDER_SAMPLES]: '10' }).warnings).toHaveLength(1);
  });

  it('warns, as Hadoop would silently ignore them, about options without their class', () => {
    const s = interpretJobConf({ 'mapreduce.partition.keypartitioner.options': '-k1,1' });
    expect(s.partitioner).toBeUndefined();
    expect(s.warnings).toHaveLength(1);
  });

  it('lists every bad recognised value in one usage error', () => {
    let err: unknown;
    try {
      interpretJobConf({
        'mapreduce.job.reduces': 'two',
        'stream.num.map.output.key.fields': '0',
        'mapreduce.partition.keycomparator.options': '-k1,1x',
        'mapreduce.job.partitioner.class': 'org.example.MyPartitioner',
        'stream.non.zero.exit.is.failure': 'yes',
        'stream.map.output.field.separator': '',
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    const message = (err as Error).message;
    for (const key of [
      'mapreduce.job.reduces',
      'stream.num.map.output.key.fields',
      'mapreduce.partition.keycomparator.options',
      'mapreduce.job.partitioner.class',
      'stream.non.zero.exit.is.failure',
      'stream.map.output.field.separator',
    ]) {
      expect(message).toContain(key);
    }
  });

  it('reads the reduce slow-start fraction (default 1, Hadoop 1 name too) and refuses anything outside 0..1', () => {
    expect(DEFAULT_STREAMING_SETTINGS.reduceSlowStart).toBe(1);
    expect(interpretJobConf({ [JobConfKeys.REDUCE_SLOWSTART]: '0.25' }).reduceSlowStart).toBe(0.25);
    expect(interpretJobConf({ [JobConfKeys.REDUCE_SLOWSTART]: ' 0 ' }).reduceSlowStart).toBe(0);
    expect(interpretJobConf({ [JobConfKeys.REDUCE_SLOWSTART]: '1.0' }).reduceSlowStart).toBe(1);
    expect(interpretJobConf({ 'mapred.reduce.slowstart.completed.maps': '0.05' }).reduceSlowStart).toBe(0.05);
    for (const bad of ['1.5', '-0.1', 'half', '', '5%', 'NaN', 'Infinity', '0x1']) {
      expect(() => interpretJobConf({ [JobConfKeys.REDUCE_SLOWSTART]: bad }), bad).toThrow(UsageError);
      expect(() => interpretJobConf({ [JobConfKeys.REDUCE_SLOWSTART]: bad })).toThrow(
        `${JobConfKeys.REDUCE_SLOWSTART} must be a fraction from 0 to 1`,
      );
    }
  });

  it('accepts only the gzip codec for output compression', () => {
    expect(interpretJobConf({ 'mapreduce.output.fileoutputformat.compress': 'true' }).compressOutput).toBe(true);
    expect(() =>
      interpretJobConf({
        'mapreduce.output.fileoutputformat.compress': 'true',
        'mapreduce.output.fileoutputformat.compress.codec': 'org.apache.hadoop.io.compress.SnappyCodec',
      }),
    ).toThrow(UsageError);
  });
});
