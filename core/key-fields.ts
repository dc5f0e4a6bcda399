/**
 * Hadoop Streaming key fields: splitting a map output line into key and value
 * (`stream.map.output.field.separator`, `stream.num.map.output.key.fields`), and the
 * KeyFieldBasedPartitioner / KeyFieldBasedComparator `-k pos1[,pos2]`, `-n`, `-r`
 * options over the key's fields (`mapreduce.map.output.key.field.separator`).
 *
 * The comparator is turned into a SORT KEY: a string whose plain byte order is the
 * comparator's order. The shuffle then stays a byte-order sort on `sortKey<TAB>line`
 * (see ./shuffle-key.ts), and a sort key that covers more of the line than the
 * partition key is Hadoop's secondary sort.
 *
 * Sort keys use only the characters '!'..'~' (never a tab or newline) and each key
 * spec's part is prefix-free (it ends in a terminator), so concatenated parts compare
 * spec by spec.
 */
import { UsageError } from './errors.js';

/** One `-k pos1[,pos2]` spec. Fields and characters count from 1; endField 0 = end of key, endChar 0 = end of field. */
export interface KeySpec {
  readonly startField: number;
  readonly startChar: number;
  readonly endField: number;
  readonly endChar: number;
  readonly numeric: boolean;
  readonly reverse: boolean;
}

/** Parsed options: the key specs (an empty list means the whole key, byte order). */
export interface KeyFieldOptions {
  readonly specs: readonly KeySpec[];
}

const WHOLE_KEY = { startField: 1, startChar: 1, endField: 0, endChar: 0 } as const;

function parsePos(text: string, isEnd: boolean, spec: string): { field: number; char: number; n: boolean; r: boolean } {
  const m = /^(\d+)(?:\.(\d+))?([a-z]*)$/.exec(text);
  if (!m) throw new UsageError(`bad key position ${JSON.stringify(text)} in -k${spec} (expected f[.c][nr])`);
  const field = Number(m[1]);
  const char = m[2] === undefined ? (isEnd ? 0 : 1) : Number(m[2]);
  const opts = m[3] ?? '';
  for (const o of opts) {
    if (o !== 'n' && o !== 'r') {
      throw new UsageError(`unsupported ordering option '${o}' in -k${spec} (Hadoop's KeyFieldBasedComparator supports n and r)`);
    }
  }
  if (field < 1) throw new UsageError(`field numbers start at 1, got -k${spec}`);
  if (!isEnd && char < 1) throw new UsageError(`character positions in pos1 start at 1, got -k${spec}`);
  return { field, char, n: opts.includes('n'), r: opts.includes('r') };
}

/**
 * Parse KeyFieldBasedComparator / KeyFieldBasedPartitioner options, e.g.
 * `-k1,1 -k2,2nr` or `-n -r`. Global `-n`/`-r` apply to specs without options of
 * their own; without any `-k` they apply to the whole key (Hadoop's KeyFieldHelper).
 */
export function parseKeyFieldOptions(text: string): KeyFieldOptions {
  const tokens = text.trim().split(/\s+/).filter((t) => t !== '');
  const specs: KeySpec[] = [];
  let globalN = false;
  let globalR = false;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t === '-n') globalN = true;
    else if (t === '-r') globalR = true;
    else if (t === '-nr' || t === '-rn') globalN = globalR = true;
    else if (t.startsWith('-k')) {
      let spec = t.slice(2);
      if (spec === '') {
        const next = tokens[++i];
        if (next === undefined) throw new UsageError('-k needs a key position, e.g. -k1,1');
        spec = next;
      }
      const [p1, p2, extra] = spec.split(',');
      if (extra !== undefined || p1 === undefined || p1 === '') {
        throw new UsageError(`bad key spec -k${spec} (expected -k pos1[,pos2], pos = f[.c][nr])`);
      }
      const a = parsePos(p1, false, spec);
      const b = p2 === undefined ? { field: 0, char: 0, n: false, r: false } : parsePos(p2, true, spec);
      if (b.field !== 0 && b.field < a.field) throw new UsageError(`-k${spec} ends before it starts`);
      specs.push({
        startField: a.field,
        startChar: a.char,
        endField: b.field,
        endChar: b.char,
        numeric: a.n || b.n,
        reverse: a.r || b.r,
      });
    } else {
      throw new UsageError(`unsupported option ${JSON.stringify(t)} (supported: -k pos1[,pos2], -n, -r)`);
    }
  }
  const withGlobals = specs.map((s) => (s.numeric || s.reverse ? s : { ...s, numeric: globalN, reverse: globalR }));
  if (withGlobals.length === 0 && (globalN || globalR)) {
    withGlobals.push({ ...WHOLE_KEY, numeric: globalN, reverse: globalR });
  }
  return { specs: withGlobals };
}

/**
 * Where the key ends and the value starts in a map (or reduce) output line: the key
 * is the text before the `numKeyFields`-th separator; with fewer separators the
 * whole line is the key and the value is empty (valueStart = -1).
 */
export function splitKeyValueAt(line: string, separator: string, numKeyFields: number): [keyEnd: number, valueStart: number] {
  let pos = line.indexOf(separator);
  for (let k = 1; k < numKeyFields && pos >= 0; k++) pos = line.indexOf(separator, pos + separator.length);
  return pos < 0 ? [line.length, -1] : [pos, pos + separator.length];
}

/** The [start, end) char range of `spec` in `key`, whose fields are separated by `sep`. */
export function specRange(key: string, spec: KeySpec, sep: string): [number, number] {
  // Field starts: fieldStart[i] is where field i+1 begins; fieldEnd[i] where it ends.
  const starts: number[] = [0];
  const ends: number[] = [];
  const lastField = Math.max(spec.startField, spec.endField);
  for (let p = key.indexOf(sep); p >= 0 && starts.length <= lastField; p = key.indexOf(sep, p + sep.length)) {
    ends.push(p);
    starts.push(p + sep.length);
  }
  if (ends.length < starts.length) ends.push(key.length);
  const n = starts.length; // fields seen (at most lastField + 1)
  if (spec.startField > n) return [key.length, key.length];
  const fs = starts[spec.startField - 1]!;
  const start = Math.min(fs + spec.startChar - 1, ends[spec.startField - 1]!);
  let end: number;
  if (spec.endField === 0 || spec.endField > n) end = key.length;
  else {
    const fe = ends[spec.endField - 1]!;
    end = spec.endChar === 0 ? fe : Math.min(starts[spec.endField - 1]! + spec.endChar, fe);
  }
  return end < start ? [start, start] : [start, end];
}

/**
 * The bytes KeyFieldBasedPartitioner hashes: the spec ranges concatenated, or the
 * whole key without specs.
 */
export function partitionKeyOf(key: string, opts: KeyFieldOptions, sep: string): string {
  if (opts.specs.length === 0) return key;
  let out = '';
  for (const s of opts.specs) {
    const [a, b] = specRange(key, s, sep);
    out += key.slice(a, b);
  }
  return out;
}

const HEX = '0123456789abcdef';
/** Ascending text terminator: below every hex digit. */
const TEXT_END = '!';

/** Order-preserving, prefix-free encoding of bytes (latin1 chars): hex pairs then '!'. */
function encodeBytes(s: string, from: number, to: number): string {
  let out = '';
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i) & 0xff;
    out += HEX[c >> 4]! + HEX[c & 15]!;
  }
  return out + TEXT_END;
}

/**
 * Order-preserving, prefix-free encoding of a number as Hadoop's numerical compare
 * reads it: an optional leading '-', digits, an optional '.' and fraction digits;
 * whatever follows is ignored, and no digits read as zero. Any text starting with '-'
 * sorts below any text that does not (as in Hadoop, so "-0" < "0").
 */
function encodeNumber(s: string, from: number, to: number): string {
  let i = from;
  const negative = i < to && s[i] === '-';
  if (negative) i++;
  while (i < to && s[i] === '0') i++;
  const intStart = i;
  while (i < to && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
  const intDigits = s.slice(intStart, i);
  let frac = '';
  if (i < to && s[i] === '.') {
    const fs = ++i;
    while (i < to && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
    frac = s.slice(fs, i).replace(/0+$/, '');
  }
  const len = Math.min(intDigits.length, 99999);
  if (!negative) {
    if (len === 0 && frac === '') return 'B';
    return `C${String(len).padStart(5, '0')}${intDigits}${frac}!`;
  }
  let digits = '';
  for (const d of intDigits + frac) digits += String(9 - Number(d));
  return `A${String(99999 - len).padStart(5, '0')}${digits}~`;
}

/** Reverse the order of a prefix-free encoding over '!'..'~'. */
function reverseEncoding(e: string): string {
  let out = '';
  for (let i = 0; i < e.length; i++) out += String.fromCharCode(0x21 + 0x7e - e.charCodeAt(i));
  return out;
}

/**
 * The sort key of a map output key under KeyFieldBasedComparator options: plain
 * string order of sort keys is the comparator's order, and equal sort keys are keys
 * the comparator finds equal. Without specs it is the key's byte order.
 */
export function sortKeyOf(key: string, opts: KeyFieldOptions | undefined, sep: string): string {
  const specs = opts?.specs ?? [];
  if (specs.length === 0) return encodeBytes(key, 0, key.length);
  let out = '';
  for (const s of specs) {
    const [a, b] = specRange(key, s, sep);
    const e = s.numeric ? encodeNumber(key, a, b) : encodeBytes(key, a, b);
    out += s.reverse ? reverseEncoding(e) : e;
  }
  return out;
}

/** Compare two keys the way the comparator does (negative, 0, positive). For tests and small inputs. */
export function compareKeys(a: string, b: string, opts: KeyFieldOptions | undefined, sep: string): number {
  const x = sortKeyOf(a, opts, sep);
  const y = sortKeyOf(b, opts, sep);
  return x < y ? -1 : x > y ? 1 : 0;
}
