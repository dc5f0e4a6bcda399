#!/usr/bin/env python3
"""The most used word of the input: a two-step mrjob job.

Step 1 counts words (with a combiner); step 2 sends every (word, count) pair to one
key and keeps the largest. A word list in FILES (stop_words.txt) is skipped.

    mapreduce run --mrjob examples/mrjob/most_used_word.py -i examples/data -o out/top-word
    python3 examples/mrjob/most_used_word.py examples/data/*.txt     # mrjob's inline runner
"""
import re

from mrjob.job import MRJob
from mrjob.step import MRStep

WORD_RE = re.compile(r"[\w']+")


class MRMostUsedWord(MRJob):
    FILES = ['stop_words.txt']

    def configure_args(self):
        super().configure_args()
        self.add_passthru_arg('--min-length', type=int, default=1,
                              help='ignore words shorter than this')

    def steps(self):
        return [
            MRStep(mapper_init=self.load_stop_words,
                   mapper=self.mapper_get_words,
                   combiner=self.combiner_count_words,
                   reducer=self.reducer_count_words),
            MRStep(reducer=self.reducer_find_max_word),
        ]

    def load_stop_words(self):
        # FILES are shipped into the task's working directory.
        with open('stop_words.txt') as f:
            self.stop_words = {line.strip() for line in f if line.strip()}

    def mapper_get_words(self, _, line):
        for word in WORD_RE.findall(line):
            word = word.lower()
            if len(word) >= self.options.min_length and word not in self.stop_words:
                yield word, 1

    def combiner_count_words(self, word, counts):
        yield word, sum(counts)

    def reducer_count_words(self, word, counts):
        yield None, (sum(counts), word)

    def reducer_find_max_word(self, _, count_word_pairs):
        # The largest count; ties go to the alphabetically last word (tuple order).
        count, word = max(count_word_pairs)
        yield word, count


if __name__ == '__main__':
    MRMostUsedWord.run()
