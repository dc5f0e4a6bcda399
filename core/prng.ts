/**
 * mulberry32: a tiny seeded pseudo-random generator, so generated data (test inputs,
 * the benchmark corpus, chaos schedules) is the same on every machine and a failing
 * run can be replayed from its seed. Not for anything that needs real randomness.
 */

/** A generator of floats in [0, 1) from a 32-bit seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
