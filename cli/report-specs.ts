/**
 * The job report's charts as Vega-Lite specs (compiled to Vega by cli/report-html.ts).
 * Mark names are stable: the report test finds bars, worker rows and phase boundaries
 * by them in the rendered SVG.
 */
import type { JobReport } from '../core/job-report.js';
import { STRAGGLER_FACTOR } from '../core/job-report.js';
import { COST_SERVICES } from '../core/cost.js';

/** Names of the marks the report test looks for (Vega-Lite names a unit's marks `<name>_marks`). */
export const MARKS = {
  attempts: 'attempts',
  workerLabels: 'worker_labels',
  boundaries: 'phase_boundaries',
  cost: 'cost_bars',
} as const;

const OUTCOME_COLORS: Record<string, string> = {
  'map committed': '#4c78a8',
  'reduce committed': '#54a24b',
  'map running': '#9ecae9',
  'reduce running': '#88d27a',
  'map failed': '#e45756',
  'reduce failed': '#b22222',
  'map reclaimed': '#f58518',
  'reduce reclaimed': '#c96a0c',
  'map released': '#d6d6d6',
  'reduce released': '#b8b8b8',
  'map cancelled': '#9d9d9d',
  'reduce cancelled': '#7a7a7a',
  'map superseded': '#b279a2',
  'reduce superseded': '#8a5b7e',
};

type Spec = Record<string, unknown>;

const WIDTH = 860;

/** One row per worker, one bar per attempt (colour: phase and outcome; dashed outline: backup), phase rules. */
export function timelineSpec(r: JobReport): Spec {
  const values = r.attempts.map((a) => ({ ...a, category: `${a.phase} ${a.outcome}` }));
  const present = Object.keys(OUTCOME_COLORS).filter((c) => values.some((v) => v.category === c));
  const y = { field: 'worker', type: 'nominal', sort: r.workers, title: 'worker', axis: { labels: false, ticks: false } };
  return {
    width: WIDTH,
    height: Math.max(60, 26 * r.workers.length),
    title: 'Timeline: one row per worker, one bar per attempt',
    layer: [
      {
        name: MARKS.attempts,
        data: { values },
        mark: { type: 'bar', cornerRadius: 2, height: { band: 0.7 } },
        encoding: {
          y,
          x: { field: 'start', type: 'quantitative', title: 'seconds since the job was created' },
          x2: { field: 'end' },
          color: {
            field: 'category',
            type: 'nominal',
            title: 'phase, outcome',
            scale: { domain: present, range: present.map((c) => OUTCOME_COLORS[c]) },
          },
          stroke: { condition: { test: 'datum.backup || datum.straggler', value: '#000' }, value: null },
          strokeDash: { condition: { test: 'datum.backup', value: [4, 2] }, value: [1, 0] },
          tooltip: [
            { field: 'taskId', title: 'task' },
            { field: 'step' },
            { field: 'attempt' },
            { field: 'worker' },
            { field: 'outcome' },
            { field: 'seconds', format: '.2f' },
            { field: 'straggler' },
            { field: 'backup' },
            { field: 'reason' },
          ],
        },
      },
      {
        name: MARKS.workerLabels,
        data: { values: r.workers.map((worker) => ({ worker })) },
        mark: { type: 'text', align: 'right', dx: -6, fontSize: 10 },
        encoding: { y, x: { value: 0 }, text: { field: 'worker' } },
      },
      {
        name: MARKS.boundaries,
        data: { values: r.boundaries },
        mark: { type: 'rule', strokeDash: [6, 3], color: '#333' },
        encoding: { x: { field: 'at', type: 'quantitative' }, tooltip: [{ field: 'label' }, { field: 'at', format: '.2f' }] },
      },
      {
        data: { values: r.boundaries },
        mark: { type: 'text', angle: 270, align: 'left', baseline: 'bottom', dx: 4, dy: -2, fontSize: 10, y: 0 },
        encoding: { x: { field: 'at', type: 'quantitative' }, text: { field: 'label' } },
      },
    ],
    resolve: { scale: { color: 'independent' } },
    config: { axisY: { titlePadding: 110 }, padding: { left: 120 } },
  };
}

/** Attempt durations per phase, stragglers (over STRAGGLER_FACTOR x the median) in red. */
export function histogramSpec(r: JobReport): Spec {
  const values = r.attempts
    .filter((a) => a.outcome !== 'running')
    .map((a) => ({ phase: a.phase, seconds: a.seconds, kind: a.straggler ? 'straggler' : 'normal' }));
  const phases = (['map', 'reduce'] as const).filter((p) => values.some((v) => v.phase === p));
  return {
    resolve: { scale: { color: 'independent' } },
    title: `Attempt durations per phase (straggler: over ${STRAGGLER_FACTOR} x the phase median)`,
    hconcat: phases.map((phase) => ({
      width: WIDTH / 2 - 60,
      height: 160,
      title: `${phase} (median ${(r.medianSeconds[phase] ?? 0).toFixed(2)} s)`,
      data: { values: values.filter((v) => v.phase === phase) },
      mark: 'bar',
      encoding: {
        x: { field: 'seconds', type: 'quantitative', bin: { maxbins: 20 }, title: 'seconds' },
        y: { aggregate: 'count', type: 'quantitative', title: 'attempts' },
        color: {
          field: 'kind',
          type: 'nominal',
          title: null,
          scale: { domain: ['normal', 'straggler'], range: [phase === 'map' ? '#4c78a8' : '#54a24b', '#e45756'] },
        },
      },
    })),
  };
}

export function throughputSpec(r: JobReport): Spec {
  return {
    width: WIDTH,
    height: 160,
    title: 'Throughput: input MB/s processed (committed attempts, spread over their run)',
    data: { values: r.throughput },
    mark: { type: 'line', interpolate: 'step-after', point: true },
    encoding: {
      x: { field: 't', type: 'quantitative', title: 'seconds since the job was created' },
      y: { field: 'mbPerSecond', type: 'quantitative', title: 'MB/s' },
      color: { field: 'phase', type: 'nominal', scale: { domain: ['map', 'reduce'], range: ['#4c78a8', '#54a24b'] } },
    },
  };
}

export function costSpec(r: JobReport): Spec {
  const values = COST_SERVICES.map((service) => ({ service, usd: r.cost.usd[service] }));
  return {
    width: WIDTH - 200,
    height: 22 * values.length,
    title: 'Modeled AWS cost by service (USD)',
    data: { values },
    mark: 'bar',
    name: MARKS.cost,
    encoding: {
      y: { field: 'service', type: 'nominal', sort: [...COST_SERVICES], title: null },
      x: { field: 'usd', type: 'quantitative', title: 'USD', axis: { format: '.2~e' } },
      tooltip: [{ field: 'service' }, { field: 'usd', format: '.8f' }],
    },
  };
}
