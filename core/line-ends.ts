/**
 * Hadoop's LineReader line ends: a line ends at LF, CR-LF or a lone CR, and the
 * terminator is not part of the record.
 *
 * The split reader cuts at LF only (./splits.ts); this turns its LF-terminated lines
 * into Hadoop's records: drop one trailing CR (CR-LF), then cut at every remaining CR.
 * Every CR-terminated record lies inside one LF line, so each is still read by
 * exactly one split. ("a\r\r\n" → "a", "" as in Hadoop.)
 */

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
