#!/bin/sh
# Grep mapper (map-only job): print input lines matching the pattern given as the first argument.
#   mapreduce run -i logs/ -o matches -m "examples/grep/grep_map.sh ERROR"
# grep exits 1 when nothing matches; for a mapper that is success, so only exit codes > 1 fail the task.
export LC_ALL=C
grep -e "$1"
status=$?
[ "$status" -le 1 ]
