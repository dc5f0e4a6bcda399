/**
 * Runtime metrics for the dashboard: tasks completed and failed, job durations, and
 * speculative backups launched and won (the job counters SPECULATIVE_ATTEMPTS / _WINS).
 * On AWS they are CloudWatch embedded-metric-format lines (Powertools Metrics) in
 * the worker and Lambda logs; tests and the CLI use the no-op sink.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRIC_NAMES } from '../core/resources.js';

export interface RuntimeMetrics {
  /** A committed attempt of a task of job step `step` (0-based; the dimension `Step` is 1-based). */
  taskCompleted(kind: 'map' | 'reduce', step?: number): void;
  taskFailed(kind: 'map' | 'reduce', step?: number): void;
  jobFinished(status: string, durationMs: number): void;
  /** A backup attempt was claimed (one per SPECULATIVE_ATTEMPTS count). */
  speculativeAttempt(kind: 'map' | 'reduce'): void;
  /** A backup attempt committed first (one per SPECULATIVE_WINS count). */
  speculativeWin(kind: 'map' | 'reduce'): void;
}


export const noMetrics: RuntimeMetrics = {
  taskCompleted: () => {},
  taskFailed: () => {},
  jobFinished: () => {},
  speculativeAttempt: () => {},
  speculativeWin: () => {},
};

/** Metrics in `POWERTOOLS_METRICS_NAMESPACE` (default MapReduce), published at once. */
export function emfMetrics(serviceName: string, env: NodeJS.ProcessEnv = process.env): RuntimeMetrics {
  const metrics = new Metrics({ namespace: env.POWERTOOLS_METRICS_NAMESPACE ?? 'MapReduce', serviceName });
  const emit = (name: string, unit: (typeof MetricUnit)[keyof typeof MetricUnit], value: number, ...dimensions: [string, string][]) => {
    for (const [k, v] of dimensions) metrics.addDimension(k, v);
    metrics.addMetric(name, unit, value);
    metrics.publishStoredMetrics();
  };
  // Task metrics carry the job step (1-based): the dashboard's per-step widget groups by it.
  // A job has at most MANIFEST_LIMITS.maxSteps steps, so the series stay few.
  const step = (n = 0): [string, string] => ['Step', String(n + 1)];
  return {
    taskCompleted: (kind, n) => emit(METRIC_NAMES.tasksCompleted, MetricUnit.Count, 1, ['TaskKind', kind], step(n)),
    taskFailed: (kind, n) => emit(METRIC_NAMES.tasksFailed, MetricUnit.Count, 1, ['TaskKind', kind], step(n)),
    jobFinished: (status, ms) => emit(METRIC_NAMES.jobDuration, MetricUnit.Milliseconds, ms, ['Status', status]),
    speculativeAttempt: (kind) => emit(METRIC_NAMES.speculativeAttempts, MetricUnit.Count, 1, ['TaskKind', kind]),
    speculativeWin: (kind) => emit(METRIC_NAMES.speculativeWins, MetricUnit.Count, 1, ['TaskKind', kind]),
  };
}
