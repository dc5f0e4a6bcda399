import { describe, expect, it } from 'vitest';
import { decodeValues, latin1ToText, textToLatin1 } from './text.js';

const viaBuffer = {
  toText: (s: string) => Buffer.from(s, 'latin1').toString('utf8'),
  toLatin1: (s: string) => Buffer.from(s, 'utf8').toString('latin1'),
};

describe('latin1 records and UTF-8 text', () => {
  it('converts like Buffer.from, through the reused buffer and past its size', () => {
    const texts = [
      'plain ascii',
      'café',
      '中文 text',
      '😀 and a lone \ud800 surrogate',
      'é'.repeat(20_000), // grows the reused buffer
      `x${'ж'.repeat(300_000)}`, // beyond the reused buffer's limit: allocated
      'short é again', // after a long one: the buffer holds stale bytes past this string
    ];
    for (const t of texts) {
      const latin1 = textToLatin1(t);
      expect(latin1).toBe(viaBuffer.toLatin1(t));
      expect(latin1ToText(latin1)).toBe(viaBuffer.toText(latin1));
    }
    // Invalid UTF-8 in a record decodes to U+FFFD, as before.
    for (const bad of ['\xff\xfe', 'a\xc3', '\xe4\xb8']) expect(latin1ToText(bad)).toBe(viaBuffer.toText(bad));
  });

  it('returns ASCII strings as they are and decodes only the values that need it', () => {
    const ascii = 'the\t1';
    expect(latin1ToText(ascii)).toBe(ascii);
    expect(textToLatin1(ascii)).toBe(ascii);
    const values = ['1', viaBuffer.toLatin1('é'), '2'];
    expect(decodeValues(values)).toEqual(['1', 'é', '2']);
    const plain = ['1', '2'];
    expect(decodeValues(plain)).toBe(plain);
  });

  it('decodes runs of equal values like each value alone (random mixes of ASCII and latin1-encoded UTF-8)', async () => {
    const { mulberry32 } = await import('../../core/prng.js');
    const rand = mulberry32(14);
    const pool = ['1', '1', '2', viaBuffer.toLatin1('é'), viaBuffer.toLatin1('中'), '', 'x'];
    for (let round = 0; round < 200; round++) {
      const values = Array.from({ length: Math.floor(rand() * 12) }, () => pool[Math.floor(rand() * pool.length)]!);
      expect(decodeValues(values)).toEqual(values.map((v) => viaBuffer.toText(v)));
    }
  });
});
