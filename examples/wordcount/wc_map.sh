#!/bin/sh
# Word count mapper (Hadoop Streaming): one "word<TAB>1" line per whitespace-separated word.
export LC_ALL=C
tr -s '[:space:]' '\n' | awk 'NF { print $0 "\t1" }'
