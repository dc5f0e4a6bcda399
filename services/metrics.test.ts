import { afterEach, describe, expect, it, vi } from 'vitest';
import { METRIC_NAMES } from '../core/resources.js';
import { emfMetrics } from './metrics.js';

/** The embedded-metric-format documents Powertools prints while `fn` runs. */
function emitted(fn: () => void): Record<string, unknown>[] {
  const lines: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    fn();
  } finally {
    spy.mockRestore();
  }
  return lines
    .join('')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('emfMetrics', () => {
  afterEach(() => vi.restoreAllMocks());

  it('tags task metrics with the job step (1-based) and the task kind, for the per-step dashboard widget', () => {
    const m = emfMetrics('worker', { POWERTOOLS_METRICS_NAMESPACE: 'MapReduceTest' });
    const docs = emitted(() => {
      m.taskCompleted('reduce', 2);
      m.taskFailed('map');
    });
    expect(docs).toHaveLength(2);
    const [completed, failed] = docs as { _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][] }[] }; [k: string]: unknown }[];
    expect(completed!._aws.CloudWatchMetrics[0]!.Namespace).toBe('MapReduceTest');
    expect([...completed!._aws.CloudWatchMetrics[0]!.Dimensions[0]!].sort()).toEqual(['Step', 'TaskKind', 'service']);
    expect(completed).toMatchObject({ Step: '3', TaskKind: 'reduce', [METRIC_NAMES.tasksCompleted]: 1 });
    expect(failed).toMatchObject({ Step: '1', TaskKind: 'map', [METRIC_NAMES.tasksFailed]: 1 });
  });
});
