import { describe, expect, it } from 'vitest';
import { inputKeyOf } from './total-order-sampler.js';

describe('inputKeyOf', () => {
  it('is the text before the first tab, or the whole line (what an identity streaming mapper keys on)', () => {
    expect(inputKeyOf('k\tv\tw')).toBe('k');
    expect(inputKeyOf('no tab')).toBe('no tab');
    expect(inputKeyOf('\tv')).toBe('');
  });
});
