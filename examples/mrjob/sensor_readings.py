#!/usr/bin/env python3
"""Secondary sort with SORT_VALUES: each sensor's readings in timestamp order.

Input lines: `sensor,timestamp,value`. The reducer receives one sensor's readings
already sorted by value (mrjob's SORT_VALUES), so it needs no in-memory sort: it
reports the first and last reading and the largest jump between consecutive ones.

    mapreduce run --mrjob examples/mrjob/sensor_readings.py -i readings.csv -o out/sensors -R 3
    python3 examples/mrjob/sensor_readings.py readings.csv          # mrjob's inline runner
"""
from mrjob.job import MRJob


class MRSensorReadings(MRJob):
    SORT_VALUES = True

    def mapper(self, _, line):
        sensor, timestamp, value = line.split(',')
        # Values sort as their JSON text: a fixed-width timestamp sorts as time does.
        yield sensor, '%012d %s' % (int(timestamp), value)

    def reducer(self, sensor, readings):
        first = last = None
        previous = None
        largest_jump = 0.0
        count = 0
        for reading in readings:
            timestamp, value = reading.split(' ')
            value = float(value)
            if first is None:
                first = int(timestamp)
            elif int(timestamp) < last:
                raise ValueError('readings of %s out of order' % sensor)
            if previous is not None:
                largest_jump = max(largest_jump, abs(value - previous))
            previous = value
            last = int(timestamp)
            count += 1
        yield sensor, {'readings': count, 'first': first, 'last': last,
                       'largest_jump': round(largest_jump, 3)}


if __name__ == '__main__':
    MRSensorReadings.run()
