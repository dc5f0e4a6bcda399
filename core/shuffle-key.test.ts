import { describe, expect, it } from 'vitest';
import { interpretJobConf } from './jobconf.js';
import { outputLine, shuffleCodecFor } from './shuffle-key.js';

const secondarySort = interpretJobConf({
  'stream.num.map.output.key.fields': '2',
  'mapreduce.partition.keypartitioner.options': '-k1,1',
  'mapreduce.partition.keycomparator.options': '-k1,1 -k2,2n',
  'mapreduce.job.partitioner.class': 'org.apache.hadoop.mapred.lib.KeyFieldBasedPartitioner',
  'mapreduce.job.output.key.comparator.class': 'org.apache.hadoop.mapred.lib.KeyFieldBasedComparator',
});

describe('shuffleCodecFor', () => {
  it('is undefined for a job without key-field settings (lines travel unchanged)', () => {
    expect(shuffleCodecFor(interpretJobConf({ 'some.user.key': 'x' }))).toBeUndefined();
  });

  it('sorts shuffle lines by the comparator and partitions on the partitioner fields only', () => {
    const codec = shuffleCodecFor(secondarySort)!;
    const lines = ['s2\t10\tc', 's1\t9\tb', 's1\t10\ta', 's2\t9\td', 's1\t100\te'];
    const shuffled = lines.map((l) => codec.toShuffle(l)).sort();
    expect(shuffled.map((l) => codec.toReduceInput(l))).toEqual(['s1\t9\tb', 's1\t10\ta', 's1\t100\te', 's2\t9\td', 's2\t10\tc']);
    for (const R of [2, 3, 7]) {
      const parts = new Set(shuffled.filter((l) => codec.original(l).startsWith('s1\t')).map((l) => codec.partitionOf(l, R)));
      expect(parts.size).toBe(1);
    }
  });

  it('writes the reduce input separator between key and value', () => {
    const s = interpretJobConf({
      'stream.map.output.field.separator': '.',
      'stream.num.map.output.key.fields': '2',
      'stream.reduce.input.field.separator': ':',
    });
    const codec = shuffleCodecFor(s)!;
    expect(codec.toReduceInput(codec.toShuffle('a.b.c.d'))).toBe('a.b:c.d');
    expect(codec.toReduceInput(codec.toShuffle('a.b'))).toBe('a.b');
  });
});

describe('outputLine', () => {
  it('rewrites key SEP value as key TAB value, leaving the default layout alone', () => {
    expect(outputLine('a.b.c', '.', 2)).toBe('a.b\tc');
    expect(outputLine('a.b', '.', 2)).toBe('a.b');
    expect(outputLine('a\tb', '\t', 1)).toBe('a\tb');
  });
});
