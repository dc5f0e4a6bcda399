/**
 * The map's last fill (core/external-sort.ts): when the input read so far says the rest of
 * the map's output fits, the byte buffer keeps filling a little past its limit instead of
 * spilling a run for a few MiB.
 */

/**
 * How far past `bufferBytes` (a fraction of it) the estimate of the map's last fill may go
 * when the input read so far says the whole fill fits: see `keepsFilling`.
 */
export const TAIL_ALLOWANCE = 0.5;

/**
 * Whether a fill whose estimate `bytes` just passed `limit` keeps filling instead of
 * spilling: the map has read `read` (0..1) of its input, and its output so far (`spilled`
 * by earlier fills, plus this fill's `bytes`) scaled to the whole input leaves a rest that,
 * added to this fill, stays within `limit × (1 + TAIL_ALLOWANCE)`.
 *
 * Why: a map whose output is a little bigger than the sort buffer (a 64 MiB split of
 * 100-byte records fills a 64 MiB buffer's estimate at 75 %, its 32 bytes of index a record
 * counted) would write the whole buffer to a spill run, read it back and merge it with the
 * little rest: ~12 % of a sort's map side for a few MiB that fit. The extra memory is index
 * only: the byte buffer takes no line bytes beyond the arena it has (io.sort.mb of lines),
 * and past `limit × (1 + TAIL_ALLOWANCE)` it spills, whatever was predicted.
 */
export function keepsFilling(bytes: number, spilled: number, limit: number, read: number): boolean {
  if (!(read > 0 && read <= 1)) return false;
  const rest = ((spilled + bytes) * (1 - read)) / read;
  return bytes + rest <= limit * (1 + TAIL_ALLOWANCE);
}
