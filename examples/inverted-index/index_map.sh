#!/bin/sh
# Inverted index mapper: "word<TAB>document" for every word, where the document is the
# input object's file name (Hadoop Streaming passes it as $map_input_file).
export LC_ALL=C
doc=$(basename "${map_input_file:-unknown}")
tr -cs 'A-Za-z0-9' '\n' | tr 'A-Z' 'a-z' | awk -v doc="$doc" 'NF { print $0 "\t" doc }'
