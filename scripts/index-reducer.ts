/** The inverted-index reducer shared by the chaos script and the fault tests. */

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
