/**
 * The TeraSort job's CPU split by what each worker ran (measurement only, issue 13):
 * `phaseCpu` (scripts/bench/terasort-timeline.ts) gives each worker's user and system CPU
 * between two samples to the task it ran at their midpoint, and `splitProfile`
 * (scripts/bench/terasort-profile.ts) gives each V8 profile sample's time to the function
 * sampled and to the task running then, and `gcByPhase` (scripts/bench/terasort-gc.ts) gives
 * each `--trace-gc` collection in a worker log to the task running then. No emulator needed.
 */
import { describe, expect, it } from 'vitest';
import { LOG_EVENTS } from '../../core/log-events.js';
import { type CpuSample, phaseCpu, type TaskSpan } from '../../scripts/bench/terasort-timeline.js';
import { gcByPhase } from '../../scripts/bench/terasort-gc.js';
import { type Phase, splitProfile } from '../../scripts/bench/terasort-profile.js';

const sample = (t: number, w: Record<number, [number, number]>): CpuSample => ({
  t,
  workers: 0,
  emulator: 0,
  bench: 0,
  machineIdle: 0,
  perWorker: new Map(Object.entries(w).map(([pid, [user, sys]]) => [Number(pid), { user, sys }])),
});

describe('phaseCpu', () => {
  it("splits each worker's user and system CPU into map, reduce and no task", () => {
    const spans: TaskSpan[] = [
      { pid: 1, task: 'm-00000', claim: 1000, commit: 1200 },
      { pid: 1, task: 'r-00000', claim: 1200, commit: 1400 },
      { pid: 2, task: 'm-00001', claim: 1000, commit: 1400 },
    ];
    const samples = [
      sample(1000, { 1: [0, 0], 2: [0, 0] }),
      sample(1100, { 1: [0.1, 0.01], 2: [0.09, 0] }), // midpoint 1050: worker 1 map, worker 2 map
      sample(1300, { 1: [0.2, 0.05], 2: [0.2, 0] }), // midpoint 1200: worker 1 at its map's commit = its reduce's claim
      sample(1500, { 1: [0.3, 0.05], 2: [0.25, 0.1] }), // midpoint 1400: both at a commit
      sample(1700, { 1: [0.4, 0.05], 2: [0.25, 0.1] }), // midpoint 1600: no task
    ];
    const rows = phaseCpu(spans, samples, 1000, 2000);
    expect(rows[2]).toBe('| 1 | 0.20, 0.05 | 0.10, 0.00 | 0.10, 0.00 |');
    expect(rows[3]).toBe('| 2 | 0.25, 0.10 | 0.00, 0.00 | 0.00, 0.00 |');
    expect(rows[4]).toBe('| both | 0.45, 0.15 | 0.10, 0.00 | 0.10, 0.00 |');
  });
});

describe('splitProfile', () => {
  it('sums self time by function and phase, idle apart, from the monotonic clock shifted to the wall clock', () => {
    const frame = (functionName: string) => ({ functionName, url: 'file:///x/main.js', lineNumber: 9 });
    const profile = {
      nodes: [
        { id: 1, callFrame: frame('(idle)') },
        { id: 2, callFrame: frame('sortedLineBlocks') },
        { id: 3, callFrame: frame('mergeSortedBytes') },
      ],
      startTime: 5_000_000, // µs on the monotonic clock
      samples: [2, 2, 1, 3, 3, 1],
      timeDeltas: [0, 1000, 1000, 1000, 1000, 1000],
    };
    // Offset 1000 ms: sample times 5.000 .. 5.005 s monotonic are 6000 .. 6005 ms wall.
    const phaseAt = (t: number): Phase => (t < 6002.5 ? 'map' : t < 6004.5 ? 'reduce' : 'none');
    const p = splitProfile(profile, 1000, phaseAt);
    // Each sample stands for the time until the next one (the last for none).
    expect(p.byFunction.get('sortedLineBlocks main.js:10')).toEqual({ map: 2, reduce: 0, none: 0 });
    expect(p.byFunction.get('mergeSortedBytes main.js:10')).toEqual({ map: 0, reduce: 2, none: 0 });
    expect(p.total).toEqual({ map: 3, reduce: 2, none: 0 });
    expect(p.idle).toEqual({ map: 1, reduce: 0, none: 0 });
  });
});

describe('gcByPhase', () => {
  it("counts each collection in the phase of the worker's last task event before it", () => {
    const log = [
      '[1:0x1]      90 ms: Scavenge 4.1 (5.0) -> 3.0 (6.0) MB, 1.50 / 0.00 ms  (average mu = 1.000, current mu = 1.000) allocation failure;',
      JSON.stringify({ level: 'INFO', message: 'Task claimed', taskId: 'm-00003' }),
      '[1:0x1]     100 ms: Mark-Compact 19.1 (20.4) -> 16.1 (20.4) MB, 2.50 / 0.02 ms  (+ 17.3 ms in 16 steps since start of marking, biggest step 16.0 ms, walltime since start of marking 205 ms) (average mu = 1.000, current mu = 1.000) finalize incremental marking via stack guard; GC in old space requested',
      '[1:0x1]     120 ms: Scavenge 20.0 (22.0) -> 17.0 (22.0) MB, 3.00 / 0.00 ms  (average mu = 1.000, current mu = 1.000) allocation failure;',
      JSON.stringify({ level: 'INFO', message: 'Task committed', taskId: 'm-00003' }),
      JSON.stringify({ level: 'INFO', message: 'Task claimed', taskId: 'r-00001' }),
      '[1:0x1]     300 ms: Mark-Compact 17.0 (21.7) -> 16.5 (21.2) MB, 6.00 / 0.01 ms  (+ 0.4 ms in 4 steps since start of marking, biggest step 0.1 ms, walltime since start of marking 24 ms) (average mu = 0.983, current mu = 0.996) finalize incremental marking via task; GC in old space requested',
      '[1:0x1]     310 ms: Mark-Compact 17.0 (21.7) -> 16.5 (21.2) MB, 4.00 / 0.01 ms  (average mu = 0.983, current mu = 0.996) testing;',
    ].join('\n');
    const t = gcByPhase(log);
    expect(t.get('none Scavenge')).toEqual({ n: 1, pauseMs: 1.5, incrementalMs: 0 });
    expect(t.get('map Mark-Compact')).toEqual({ n: 1, pauseMs: 2.5, incrementalMs: 17.3 });
    expect(t.get('map Scavenge')).toEqual({ n: 1, pauseMs: 3, incrementalMs: 0 });
    expect(t.get('reduce Mark-Compact')).toEqual({ n: 2, pauseMs: 10, incrementalMs: 0.4 });
    expect(t.size).toBe(4);
  });

  it('ends the phase at an attempt that failed or lost its lease, not only at a commit', () => {
    const scavenge = '[1:0x1]     120 ms: Scavenge 20.0 (22.0) -> 17.0 (22.0) MB, 3.00 / 0.00 ms  (average mu = 1.000, current mu = 1.000) allocation failure;';
    const log = [
      JSON.stringify({ level: 'INFO', message: LOG_EVENTS.taskClaimed, taskId: 'm-00001' }),
      JSON.stringify({ level: 'WARN', message: LOG_EVENTS.attemptFailed, taskId: 'm-00001' }),
      scavenge,
      JSON.stringify({ level: 'INFO', message: LOG_EVENTS.taskClaimed, taskId: 'r-00000' }),
      JSON.stringify({ level: 'WARN', message: LOG_EVENTS.attemptLostLease, taskId: 'r-00000' }),
      scavenge,
    ].join('\n');
    expect([...gcByPhase(log).keys()]).toEqual(['none Scavenge']);
  });
});
