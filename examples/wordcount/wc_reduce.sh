#!/bin/sh
# Word count reducer (Hadoop Streaming): input is sorted "word<TAB>1" lines; output "word<TAB>count".
export LC_ALL=C
cut -f1 | uniq -c | awk '{ print $2 "\t" $1 }'
