/**
 * Partitioning of map output: partition = FNV-1a 32-bit over the key's bytes,
 * mod R. Keys are latin1 strings, so char codes are the bytes.
 */

/** FNV-1a 32-bit offset basis and prime, for callers that hash while scanning a line. */
export const FNV_OFFSET = 0x811c9dc5;
export const FNV_PRIME = 0x01000193;

/** FNV-1a 32-bit hash of the key's bytes (the char codes of a latin1 string), unsigned. */
export function fnv1a(key: string): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < key.length; i++) {
    // Math.imul keeps the multiply in 32 bits; `>>> 0` at the end makes it unsigned.
    h = Math.imul(h ^ key.charCodeAt(i), FNV_PRIME);
  }
  return h >>> 0;
}

/** The reduce partition (0..numPartitions-1) of a key. */
export function partitionOf(key: string, numPartitions: number): number {
  if (numPartitions <= 1) {
    if (numPartitions === 1) return 0;
    throw new RangeError(`numPartitions must be at least 1, got ${numPartitions}`);
  }
  return fnv1a(key) % numPartitions;
}
