/**
 * Hadoop's LineReader line ends: a line ends at LF, CR-LF or a lone CR, and the
 * terminator is not part of the record.
 *
 * The split reader cuts at LF only (./splits.ts); this turns its LF-terminated lines
 * into Hadoop's records: drop one trailing CR (CR-LF), then cut at every remaining CR.
 * Every CR-terminated record lies inside one LF line, so each is still read by
 * exactly one split. ("a\r\r\n" → "a", "" as in Hadoop.)
 */

const LF = 0x0a;
const CR = 0x0d;

/** Hadoop records of a batch of LF-split lines. Returns the same array when no line holds a CR. */
export function splitCarriageReturns(lines: string[]): string[] {
  let i = 0;
  while (i < lines.length && !lines[i]!.includes('\r')) i++;
  if (i === lines.length) return lines;
  const out = lines.slice(0, i);
  for (; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line.includes('\r')) {
      out.push(line);
      continue;
    }
    const body = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (body.includes('\r')) out.push(...body.split('\r'));
    else out.push(body);
  }
  return out;
}

/**
 * The same records as bytes: whole LF-ended lines (as the split reader cuts them) with
 * Hadoop's line ends made '\n' — a CR right before an LF is dropped (CR-LF), any other CR
 * ends a record of its own. A block without a CR is returned as is (no copy).
 * ("a\r\r\n" → "a\n\n", as `splitCarriageReturns` gives "a", "".)
 */
export function carriageReturnsToLf(block: Buffer): Buffer {
  let cr = block.indexOf(CR);
  if (cr < 0) return block;
  const out = Buffer.allocUnsafe(block.length);
  let n = 0;
  let from = 0;
  while (cr >= 0) {
    n += block.copy(out, n, from, cr);
    if (block[cr + 1] !== LF) out[n++] = LF;
    from = cr + 1;
    cr = block.indexOf(CR, from);
  }
  n += block.copy(out, n, from);
  return out.subarray(0, n);
}

/**
 * How many '\n' bytes `bytes` holds: the records of a block of whole lines. Four bytes
 * at a time (a zero-byte count on word ^ 0x0a0a0a0a), about 10x a byte loop in V8.
 */
export function countLineFeeds(bytes: Uint8Array): number {
  let n = 0;
  let i = 0;
  const len = bytes.length;
  // Uint32Array needs an aligned start: the unaligned head byte by byte.
  for (const head = Math.min(len, (4 - (bytes.byteOffset & 3)) & 3); i < head; i++) if (bytes[i] === LF) n++;
  const words = (len - i) >>> 2;
  // (A view shorter than its unaligned head has no words, and no aligned start to view them from.)
  const w = words > 0 ? new Uint32Array(bytes.buffer, bytes.byteOffset + i, words) : new Uint32Array(0);
  for (let k = 0; k < words; k++) {
    const v = w[k]! ^ 0x0a0a0a0a; // an LF byte becomes 0
    // High bit of each byte set iff that byte is non-zero (no carry crosses a byte).
    const nonZero = ((v & 0x7f7f7f7f) + 0x7f7f7f7f) | v;
    const zeros = (~nonZero & 0x80808080) >>> 7;
    n += Math.imul(zeros, 0x01010101) >>> 24; // sum of the four 0/1 bytes
  }
  for (i += words * 4; i < len; i++) if (bytes[i] === LF) n++;
  return n;
}
