/**
 * The reduce merge's in-memory intermediate runs (core/merge-passes.ts): an intermediate merge
 * of in-memory segments copied into compact buffers, within a byte budget shared by the runs
 * one merge holds at once.
 */
import type { LineBlock } from './byte-merge.js';
import type { MergeStats, Segment } from './merge-segment.js';

/** Buffers already copied, then copies of the rest of the (reused) blocks: a file write may hold a buffer past the next block. */
export async function* copied(held: readonly Buffer[], rest: AsyncIterable<LineBlock>): AsyncIterable<LineBlock> {
  for (const bytes of held) yield { bytes, lines: 0, groups: 0 };
  for await (const b of rest) yield { ...b, bytes: Buffer.from(b.bytes) };
}

/** The in-memory runs one merge holds, within its byte budget. */
export class RunBudget {
  private held = 0;

  constructor(
    private readonly limit: number,
    private readonly stats: MergeStats,
  ) {}

  /** Room left for a run. */
  get open(): boolean {
    return this.held < this.limit;
  }

  /**
   * Copy the merged blocks into compact buffers while the runs held stay within the budget:
   * the whole merge fits (`segment`, an in-memory run charged to the budget until released),
   * or it does not (`held`, the copies made, and `rest`, the blocks not yet read, to go to a file).
   */
  async collect(blocks: AsyncIterable<LineBlock>, counted: boolean): Promise<{ segment: Segment } | { held: Buffer[]; rest: AsyncIterable<LineBlock> }> {
    const it = blocks[Symbol.asyncIterator]();
    const chunks: Buffer[] = [];
    let bytes = 0;
    for (;;) {
      const next = await it.next();
      if (next.done === true) break;
      const b = next.value.bytes;
      // Blocks share one buffer (reused): each is copied, to exactly its size.
      chunks.push(Buffer.from(b));
      bytes += b.length;
      if (this.held + bytes > this.limit) return { held: chunks, rest: { [Symbol.asyncIterator]: () => it } };
    }
    this.held += bytes;
    this.stats.maxMemoryRunBytes = Math.max(this.stats.maxMemoryRunBytes, this.held);
    return { segment: this.run(chunks, bytes, counted) };
  }

  /** An in-memory run: read once, each chunk dropped as it is handed over; its bytes go back to the budget when released. */
  private run(chunks: Buffer[], bytes: number, counted: boolean): Segment {
    let held: Buffer[] | undefined = chunks;
    let charged = true;
    return {
      counted,
      onDisk: false,
      open: () => {
        const c = held ?? [];
        held = undefined; // the merge owns the chunks now
        return (async function* () {
          for (let b = c.shift(); b !== undefined; b = c.shift()) yield b;
        })();
      },
      release: async () => {
        held = undefined;
        if (charged) this.held -= bytes;
        charged = false;
      },
    };
  }
}
