/**
 * Runtime metrics for the dashboard: tasks completed and failed, job durations.
 * On AWS they are CloudWatch embedded-metric-format lines (Powertools Metrics) in
 * the worker and Lambda logs; tests and the CLI use the no-op sink.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

export interface RuntimeMetrics {
  taskCompleted(kind: 'map' | 'reduce'): void;
  taskFailed(kind: 'map' | 'reduce'): void;
  jobFinished(status: string, durationMs: number): void;
}

export const noMetrics: RuntimeMetrics = {
  taskCompleted: () => {},
  taskFailed: () => {},
  jobFinished: () => {},
};

/** Metrics in `POWERTOOLS_METRICS_NAMESPACE` (default MapReduce), published at once. */
export function emfMetrics(serviceName: string, env: NodeJS.ProcessEnv = process.env): RuntimeMetrics {
  const metrics = new Metrics({ namespace: env.POWERTOOLS_METRICS_NAMESPACE ?? 'MapReduce', serviceName });
  const emit = (name: string, unit: (typeof MetricUnit)[keyof typeof MetricUnit], value: number, dimension: [string, string]) => {
    metrics.addDimension(dimension[0], dimension[1]);
    metrics.addMetric(name, unit, value);
    metrics.publishStoredMetrics();
  };
  return {
    taskCompleted: (kind) => emit('TasksCompleted', MetricUnit.Count, 1, ['TaskKind', kind]),
    taskFailed: (kind) => emit('TasksFailed', MetricUnit.Count, 1, ['TaskKind', kind]),
    jobFinished: (status, ms) => emit('JobDuration', MetricUnit.Milliseconds, ms, ['Status', status]),
  };
}
