#!/bin/sh
# Word count combiner/reducer that sums counts: input sorted "word<TAB>n" lines; output "word<TAB>sum".
export LC_ALL=C
awk -F '\t' '
  $1 != key { if (NR > 1) print key "\t" sum; key = $1; sum = 0 }
  { sum += $2 }
  END { if (NR > 0) print key "\t" sum }'
