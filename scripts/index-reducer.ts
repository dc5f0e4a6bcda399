/** The inverted-index reducer shared by the chaos script and the fault tests, and their input text. */
import { mulberry32 } from '../core/prng.js';

/**
 * Reducer: \`word<TAB>count<TAB>values in arrival order\`, after sleeping
 * REDUCE_SLEEP seconds. Keeping the values' order in the output makes a byte
 * comparison also check that the merge order is deterministic.
 */
export const INDEX_REDUCER = `#!/bin/sh
export LC_ALL=C
sleep "\${REDUCE_SLEEP:-0}"
awk -F '\\t' '
  $1 != k { if (NR > 1) print k "\\t" n "\\t" v; k = $1; n = 0; v = "" }
  { n++; v = v (n > 1 ? "," : "") $2 }
  END { if (NR > 0) print k "\\t" n "\\t" v }'
`;

/** `lines` lines of 3-10 words from a 16-word vocabulary, seeded (the chaos and straggler inputs). */
export function wordText(lines: number, seed: number): Buffer {
  const words = 'alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa'.split(' ');
  const rnd = mulberry32(seed);
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    const n = 3 + Math.floor(rnd() * 8);
    out.push(Array.from({ length: n }, () => words[Math.floor(rnd() * words.length)]).join(' '));
  }
  return Buffer.from(`${out.join('\n')}\n`);
}
