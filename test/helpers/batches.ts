/** Every item of an async iterable of batches (merged runs, partitions, split lines), in order. */
export async function collectBatches<T>(it: AsyncIterable<T[]>): Promise<T[]> {
  const out: T[] = [];
  for await (const b of it) out.push(...b);
  return out;
}
