/**
 * The open group of a per-key combine pass over a sorted stream (`combineGroups` in
 * ./merge.ts, `combineByteGroups` in ./byte-combine-groups.ts): a key's lines gathered, and
 * combined piecewise once the group is big, so memory stays bounded for a hot key.
 */

/** One open group at a time of a stream; see the module comment. */
export class PiecewiseGroup {
  /** The group's lines once it has two (or what combining left of them); undefined when none is open. */
  lines: string[] | undefined;
  /** The open group's key. */
  key = '';
  /** Lines of the open group since its last run end (the caller counts them). */
  run = 0;
  /** Lines at which a run end combines the group: `combineAt`, doubled when combining does not halve it. */
  private limit: number;

  constructor(
    private readonly combine: (key: string, lines: string[]) => string[] | Promise<string[]>,
    combineAt: number,
  ) {
    this.limit = combineAt;
  }

  /** Open a group of `key` with its first two lines. */
  open(key: string, first: string, second: string): void {
    this.key = key;
    this.lines = [first, second];
  }

  /** A run ended: combine the group piecewise once it is big. */
  async runEnd(): Promise<void> {
    this.run = 0;
    const lines = this.lines;
    if (lines === undefined || lines.length < this.limit) return;
    const combined = await this.call(lines);
    this.lines = combined;
    if (combined.length * 2 > lines.length) this.limit = combined.length * 2;
  }

  /** The open group combined (its last run ended); no group is open after. */
  async close(): Promise<string[]> {
    await this.runEnd();
    const lines = this.lines!;
    this.lines = undefined;
    return lines.length > 1 ? await this.call(lines) : lines;
  }

  private async call(lines: string[]): Promise<string[]> {
    const r = this.combine(this.key, lines);
    return r instanceof Promise ? await r : r;
  }
}
