#!/bin/sh
# Inverted index reducer: input sorted "word<TAB>document" lines; output "word<TAB>doc1,doc2,..."
# with each document once, in byte order.
export LC_ALL=C
sort -u | awk -F '\t' '
  $1 != word { if (NR > 1) print word "\t" docs; word = $1; docs = $2; next }
  { docs = docs "," $2 }
  END { if (NR > 0) print word "\t" docs }'
