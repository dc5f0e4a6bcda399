import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UsageError } from './errors.js';
import { compareKeys, parseKeyFieldOptions, partitionKeyOf, sortKeyOf, specRange, splitKeyValueAt } from './key-fields.js';

const TAB = '\t';

describe('parseKeyFieldOptions', () => {
  it('reads -k pos1[,pos2] with per-key options, attached or as the next word', () => {
    expect(parseKeyFieldOptions('-k1,1 -k 2.3,4.5nr').specs).toEqual([
      { startField: 1, startChar: 1, endField: 1, endChar: 0, numeric: false, reverse: false },
      { startField: 2, startChar: 3, endField: 4, endChar: 5, numeric: true, reverse: true },
    ]);
  });

  it('applies global -n/-r to specs without options, and to the whole key without specs', () => {
    expect(parseKeyFieldOptions('-k1,1 -k2,2r -n').specs.map((s) => [s.numeric, s.reverse])).toEqual([
      [true, false],
      [false, true],
    ]);
    expect(parseKeyFieldOptions('-r').specs).toEqual([
      { startField: 1, startChar: 1, endField: 0, endChar: 0, numeric: false, reverse: true },
    ]);
    expect(parseKeyFieldOptions('  ').specs).toEqual([]);
  });

  it('omitted pos2 runs to the end of the key', () => {
    expect(parseKeyFieldOptions('-k2').specs[0]).toMatchObject({ startField: 2, endField: 0, endChar: 0 });
  });

  it.each(['-k', '-k0,1', '-k2,1', '-k1,1b', '-x', '-k1,2,3', '-ka'])('rejects %j with a UsageError', (bad) => {
    expect(() => parseKeyFieldOptions(bad)).toThrow(UsageError);
  });
});

describe('splitKeyValueAt', () => {
  it('cuts at the Nth separator; fewer separators make the whole line the key', () => {
    expect(splitKeyValueAt('a\tb\tc', TAB, 1)).toEqual([1, 2]);
    expect(splitKeyValueAt('a\tb\tc', TAB, 2)).toEqual([3, 4]);
    expect(splitKeyValueAt('a\tb\tc', TAB, 3)).toEqual([5, -1]);
    expect(splitKeyValueAt('a::b::c', '::', 2)).toEqual([4, 6]);
  });
});

describe('specRange', () => {
  const k = (spec: string) => parseKeyFieldOptions(spec).specs[0]!;
  it('selects fields and characters as Hadoop documents', () => {
    const key = 'abc.defg.hi';
    const r = (spec: string) => key.slice(...specRange(key, k(spec), '.'));
    expect(r('-k2,2')).toBe('defg');
    expect(r('-k2.2,2.3')).toBe('ef');
    expect(r('-k1.3,2')).toBe('c.defg');
    expect(r('-k2')).toBe('defg.hi');
    expect(r('-k3,9')).toBe('hi');
    expect(r('-k4,4')).toBe('');
    expect(r('-k1.9,1')).toBe('');
  });
});

/** A direct reference comparator: split fields, compare spec by spec. */
function reference(a: string, b: string, spec: string): number {
  for (const s of parseKeyFieldOptions(spec).specs) {
    const x = a.slice(...specRange(a, s, TAB));
    const y = b.slice(...specRange(b, s, TAB));
    let c: number;
    if (s.numeric) {
      const nx = x.startsWith('-');
      const ny = y.startsWith('-');
      c = nx !== ny ? (nx ? -1 : 1) : Math.sign((Number(x) || 0) - (Number(y) || 0));
    } else c = x < y ? -1 : x > y ? 1 : 0;
    if (s.reverse) c = -c;
    if (c !== 0) return c;
  }
  return 0;
}

describe('sortKeyOf', () => {
  const field = fc.array(fc.constantFrom('a', 'b', 'c', '\u00e9', '\u0001'), { maxLength: 4 }).map((cs) => cs.join(''));
  const num = fc.oneof(fc.integer({ min: -2000, max: 2000 }).map(String), fc.constantFrom('0.5', '1.25', '-0.5', '10.0', '007'));
  const key = fc.tuple(field, num, field).map((p) => p.join(TAB));

  it.each(['-k1,1', '-k1,1 -k2,2n', '-k2,2nr -k1,1', '-k1,1r -k3,3', '-k3,3 -k2,2n -k1,1r'])(
    'orders keys as a direct comparator does for %j',
    (spec) => {
      fc.assert(
        fc.property(key, key, (a, b) => {
          const opts = parseKeyFieldOptions(spec);
          expect(Math.sign(compareKeys(a, b, opts, TAB))).toBe(reference(a, b, spec));
        }),
        { numRuns: 400 },
      );
    },
  );

  it('without options is byte order of the whole key, including bytes >= 0x80', () => {
    const keys = ['b', 'a\tz', 'a', '\xff', 'a\t', ''];
    const sorted = [...keys].sort((x, y) => compareKeys(x, y, undefined, TAB));
    expect(sorted).toEqual([...keys].sort());
  });

  it('orders numbers numerically, negatives below non-negatives, fractions by value', () => {
    const nums = ['10', '9', '-1', '-10', '0', '1.5', '1.25', '-1.5', 'abc', '-0', '2x'];
    const opts = parseKeyFieldOptions('-n');
    const sorted = [...nums].sort((x, y) => compareKeys(x, y, opts, TAB));
    expect(sorted).toEqual(['-10', '-1.5', '-1', '-0', '0', 'abc', '1.25', '1.5', '2x', '9', '10']);
    expect(compareKeys('0', 'abc', opts, TAB)).toBe(0);
  });

  it('never holds a tab or newline, so the shuffle can cut at the first tab', () => {
    const opts = parseKeyFieldOptions('-k1,1r -k2,2n');
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        expect(sortKeyOf(s.replace(/\n/g, ''), opts, TAB)).toMatch(/^[!-~]*$/);
      }),
    );
  });
});

describe('partitionKeyOf', () => {
  it('is the selected ranges, or the whole key without specs', () => {
    expect(partitionKeyOf('s1\t0042', parseKeyFieldOptions('-k1,1'), TAB)).toBe('s1');
    expect(partitionKeyOf('s1\t0042', parseKeyFieldOptions(''), TAB)).toBe('s1\t0042');
    expect(partitionKeyOf('a.b.c', parseKeyFieldOptions('-k1,1 -k3,3'), '.')).toBe('ac');
  });
});
