"""Peer anchor: word count with Lithops on its localhost backend (issue 14).

    python3 lithops_wordcount.py <input file> <map chunks> <worker processes> <output file>

FunctionExecutor(backend='localhost', storage='localhost') with `worker_processes`
local processes; map_reduce over the input file cut into `map chunks` byte ranges
(obj_chunk_number, Lithops aligns them to line ends), one collections.Counter per map,
summed by one reducer. Writes `word<TAB>count` lines sorted by word (UTF-8).
"""
import collections
import sys

import lithops


def count_words(obj):
    return collections.Counter(obj.data_stream.read().decode('utf-8').split())


def add_counts(results):
    total = collections.Counter()
    for c in results:
        total.update(c)
    return total


def main(path, chunks, workers, output):
    fexec = lithops.FunctionExecutor(
        backend='localhost',
        storage='localhost',
        log_level='WARNING',
        config={'lithops': {'backend': 'localhost', 'storage': 'localhost'},
                'localhost': {'worker_processes': workers}},
    )
    fexec.map_reduce(count_words, [path], add_counts, obj_chunk_number=chunks)
    counts = fexec.get_result()
    fexec.clean()
    with open(output, 'w', encoding='utf-8') as f:
        f.write(''.join(f'{w}\t{n}\n' for w, n in sorted(counts.items())))


if __name__ == '__main__':
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
