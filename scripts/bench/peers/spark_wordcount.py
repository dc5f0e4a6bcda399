"""Peer anchor: word count with PySpark on local[2] (issue 14).

    spark-submit --master 'local[2]' spark_wordcount.py <input file> <output dir>

textFile(path, 8).flatMap(split).map(w -> (w, 1)).reduceByKey(add, 2), saved as
`word<TAB>count` lines in part-* files (UTF-8).
"""
import operator
import sys

from pyspark.sql import SparkSession


def main(path, output):
    spark = SparkSession.builder.appName('wordcount-anchor').getOrCreate()
    spark.sparkContext.setLogLevel('WARN')
    (spark.sparkContext.textFile(path, 8)
        .flatMap(lambda line: line.split())
        .map(lambda w: (w, 1))
        .reduceByKey(operator.add, 2)
        .map(lambda kv: f'{kv[0]}\t{kv[1]}')
        .saveAsTextFile(output))
    spark.stop()


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
