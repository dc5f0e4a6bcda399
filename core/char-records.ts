/**
 * The records of a CharTable (./char-table.ts), in one arena, in insertion order: what an
 * entry is and how it is read back, apart from the hash index that finds it.
 *
 * A record: int32 length (negated for a two-byte string), int32 ref, the chars, padded to
 * 4 bytes. A string whose chars are all latin1 (<= 0xff, e.g. ASCII) takes one byte per
 * char and is read back with a latin1 decode; any other takes two (UTF-16 code units). An
 * entry is its record's offset, stable while the arena grows. CharTable extends this class
 * (no object in between: its lookups read `words` and `arena` as its own fields).
 */

/** Bytes of a record before its chars: length and ref. */
export const HEADER = 8;

/** The arena's first size, unless a spare one is taken. */
export const FIRST_ARENA_BYTES = 64 * 1024;

/** Code units per String.fromCharCode call when a two-byte string is read back. */
const CHARS_PER_CALL = 4096;

/** Node's Buffer method behind `toString('latin1', start, end)`, without its argument checks. */
export type Slicer = Buffer & { latin1Slice(start: number, end: number): string };

/** Strings held as records in one arena, each with an int32 ref; see the module comment. */
export class CharRecords {
  protected arena = Buffer.allocUnsafeSlow(FIRST_ARENA_BYTES) as Slicer;
  /** The arena as int32s (records start at multiples of 4). */
  protected words = new Int32Array(this.arena.buffer, 0, this.arena.length >> 2);
  /** The arena as UTF-16 code units (a two-byte string's chars start at a multiple of 4). */
  protected halves = new Uint16Array(this.arena.buffer, 0, this.arena.length >> 1);
  /** Arena bytes in use (the next record's offset). */
  protected used = 0;

  /** Hold the keys in `arena` (its records from offset 0; `allocUnsafeSlow` buffers start their own memory). */
  protected useArena(arena: Slicer): void {
    this.arena = arena;
    this.words = new Int32Array(arena.buffer, arena.byteOffset, arena.length >> 2);
    this.halves = new Uint16Array(arena.buffer, arena.byteOffset, arena.length >> 1);
  }


  /**
   * Append the record of `s` (`wide`: it has a char above 0xff) with its ref, growing the
   * arena (a copy) when it is full; returns its entry.
   */
  protected append(s: string, wide: boolean, ref: number): number {
    const n = s.length;
    // Room for two bytes per char (the string may turn out wide), padded to 4.
    const room = HEADER + ((2 * n + 3) & ~3);
    if (this.used + room > this.arena.length) {
      const bigger = Buffer.allocUnsafeSlow(Math.max(this.used + room, 2 * this.arena.length)) as Slicer;
      this.arena.copy(bigger, 0, 0, this.used);
      this.useArena(bigger);
    }
    const arena = this.arena;
    const at = this.used;
    // A short key: a loop beats Buffer#write's call.
    if (wide) for (let j = 0, k = (at + HEADER) >> 1; j < n; j++, k++) this.halves[k] = s.charCodeAt(j);
    else for (let j = 0; j < n; j++) arena[at + HEADER + j] = s.charCodeAt(j);
    this.words[at >> 2] = wide ? -n : n;
    this.words[(at >> 2) + 1] = ref;
    this.used = at + HEADER + (((wide ? 2 * n : n) + 3) & ~3);
    return at;
  }

  /** Arena bytes the records take (a size hint for a later table's arena). */
  get recordBytes(): number {
    return this.used;
  }

  ref(entry: number): number {
    return this.words[(entry >> 2) + 1]!;
  }

  setRef(entry: number, ref: number): void {
    this.words[(entry >> 2) + 1] = ref;
  }

  /**
   * Copy the latin1 chars of an entry's string to `target` at `at`; returns the offset after
   * them, or -1 (nothing copied) when the string has a char above 0xff.
   */
  copyLatin1(entry: number, target: Buffer, at: number): number {
    const len = this.words[entry >> 2]!;
    if (len < 0) return -1;
    const from = entry + HEADER;
    const arena = this.arena;
    // A short key: a loop beats Buffer#copy's call.
    if (len < 32) for (let j = 0; j < len; j++) target[at + j] = arena[from + j]!;
    else arena.copy(target, at, from, from + len);
    return at + len;
  }

  /** The length (chars) of an entry's string. */
  lengthOf(entry: number): number {
    const len = this.words[entry >> 2]!;
    return len < 0 ? -len : len;
  }

  /** The next entry after `entry` in insertion order (-1: the first), or -1 after the last. */
  nextEntry(entry: number): number {
    if (entry < 0) return this.used > 0 ? 0 : -1;
    const len = this.words[entry >> 2]!;
    const next = entry + HEADER + (((len < 0 ? -2 * len : len) + 3) & ~3);
    return next < this.used ? next : -1;
  }

  /** The string of an entry (a fresh flat string). */
  keyOf(entry: number): string {
    const len = this.words[entry >> 2]!;
    const from = entry + HEADER;
    if (len >= 0) return this.arena.latin1Slice(from, from + len);
    // Code units as stored (native byte order), a piece per call (an argument list has limits).
    const parts: string[] = [];
    for (let k = from >> 1, end = k - len; k < end; k += CHARS_PER_CALL) {
      parts.push(String.fromCharCode.apply(null, this.halves.subarray(k, Math.min(end, k + CHARS_PER_CALL)) as unknown as number[]));
    }
    return parts.join('');
  }

  /** True when the record at `from` (its chars) holds `s`'s chars, `wide` as recorded. */
  protected same(s: string, from: number, wide: boolean): boolean {
    const arena = this.arena;
    const n = s.length;
    if (!wide) {
      for (let j = 0; j < n; j++) if (arena[from + j] !== s.charCodeAt(j)) return false;
      return true;
    }
    const halves = this.halves;
    for (let j = 0, k = from >> 1; j < n; j++, k++) if (halves[k] !== s.charCodeAt(j)) return false;
    return true;
  }
}
