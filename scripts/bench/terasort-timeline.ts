/**
 * `--terasort --timeline` (measurement only, issue 13): where the TeraSort job's wall time goes
 * from the manifest upload to `_SUCCESS`, and when a CPU is free.
 *
 * - Events, in ms from the upload: the coordinator's `jobCreated` (stack log: planning and the
 *   total-order sampling are before it), each task's claim (its first UpdateItem of a TASK that
 *   is not a heartbeat), its data calls (the split's or slices' GETs, the output's PUT) and its
 *   commit (TransactWriteItems), from the workers' call log (MR_CALL_LOG); the `_SUCCESS` PUT.
 * - Per worker, the gaps between its tasks (before its first claim, between a commit and its
 *   next claim, after its last commit).
 * - CPU every ~100 ms: the two workers, the emulator, this process (the coordinator and checker
 *   run here), and the machine's idle time from /proc/stat. A window is "idle for the job" when
 *   the job's processes used less than one core in it: with 2 cores, a CPU the job left free.
 *   Those windows are summed by what each worker was doing then.
 */
import { readFileSync } from 'node:fs';
import type { CallLine } from './calls.js';
import { procCpuSeconds, statFields } from './processes.js';

/** One CPU sample: ms since the epoch, CPU seconds so far of the job's processes, and the machine's idle seconds (all cores). */
export interface CpuSample {
  readonly t: number;
  readonly workers: number;
  readonly emulator: number;
  readonly bench: number;
  readonly machineIdle: number;
  /** Each worker's user and system CPU seconds so far, by pid (/proc/<pid>/stat). */
  readonly perWorker: ReadonlyMap<number, { readonly user: number; readonly sys: number }>;
}

/** The machine's idle CPU seconds so far, all cores (/proc/stat: idle + iowait, USER_HZ = 100). */
function machineIdleSeconds(): number {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/);
  return (Number(cpu[4]) + Number(cpu[5])) / 100;
}

/** A sample of the job's processes now. */
export function cpuSample(workerPids: readonly number[], emulatorPid: number | undefined): CpuSample {
  // One read of each worker's /proc/<pid>/stat: utime and stime in USER_HZ (100) ticks.
  const perWorker = new Map(
    workerPids.map((p) => {
      const f = statFields(p);
      return [p, { user: f ? Number(f[11]) / 100 : 0, sys: f ? Number(f[12]) / 100 : 0 }];
    }),
  );
  return {
    t: Date.now(),
    workers: [...perWorker.values()].reduce((n, w) => n + w.user + w.sys, 0),
    emulator: emulatorPid ? procCpuSeconds(emulatorPid) : 0,
    bench: procCpuSeconds('self'),
    machineIdle: machineIdleSeconds(),
    perWorker,
  };
}

export interface TaskSpan {
  readonly pid: number;
  readonly task: string;
  readonly claim: number;
  /** The first data GET and the output PUT (ms since the epoch), when made. */
  readonly firstGet?: number;
  readonly lastGet?: number;
  readonly put?: number;
  readonly commit?: number;
}

/** Each task attempt's span on its worker, from the call log (times in ms since the epoch). */
export function taskSpans(calls: readonly CallLine[], jobId: string): TaskSpan[] {
  const spans = new Map<string, { pid: number; task: string; claim: number; firstGet?: number; lastGet?: number; put?: number; commit?: number }>();
  for (const c of calls) {
    if (c.jobId !== jobId || !c.taskId || c.heartbeat) continue;
    const id = `${c.pid} ${c.taskId}`;
    const s = spans.get(id);
    if (!s) {
      if (c.service === 'dynamodb' && c.operation === 'UpdateItem' && c.key === 'TASK') spans.set(id, { pid: c.pid, task: c.taskId, claim: c.ts });
      continue;
    }
    if (c.service === 's3' && c.operation === 'GetObject' && c.range !== undefined) {
      s.firstGet ??= c.ts;
      s.lastGet = c.ts;
    } else if (c.service === 's3' && c.operation === 'PutObject' && c.key !== undefined && /^tmp\/[^/]+\/(map|out)\//.test(c.key)) {
      s.put = c.ts;
    } else if (c.service === 'dynamodb' && c.operation === 'TransactWriteItems' && c.key?.startsWith('TASK') && s.commit === undefined) {
      s.commit = c.ts;
    }
  }
  return [...spans.values()].sort((a, b) => a.claim - b.claim);
}

/** CPU used in [from, to) by the job's processes (cores), and by the whole machine (cores busy), from the samples. */
function cpuBetween(samples: readonly CpuSample[], from: number, to: number, cores: number): { job: number; machine: number } {
  const a = samples.findLast((s) => s.t <= from) ?? samples[0];
  const b = samples.find((s) => s.t >= to) ?? samples.at(-1);
  if (!a || !b || b.t <= a.t) return { job: Number.NaN, machine: Number.NaN };
  const secs = (b.t - a.t) / 1000;
  const job = b.workers - a.workers + (b.emulator - a.emulator) + (b.bench - a.bench);
  return { job: job / secs, machine: cores - (b.machineIdle - a.machineIdle) / secs };
}

/** The timeline as markdown lines (printed by the bench; a diagnosis, not a figure). */
export function timelineReport(o: {
  calls: readonly CallLine[];
  jobId: string;
  submitMs: number;
  doneMs: number;
  stackLog?: string;
  samples: readonly CpuSample[];
  cores: number;
}): string[] {
  const at = (t: number | undefined) => (t === undefined ? '–' : String(Math.round(t - o.submitMs)));
  const out: string[] = [];
  const created = (o.stackLog ?? '')
    .split('\n')
    .filter((l) => l.includes(o.jobId))
    .map((l) => JSON.parse(l) as { time: string; message: string })
    .map((e) => `${e.message} at ${at(Date.parse(e.time))}`);
  out.push(`coordinator (stack log): ${created.join(', ') || 'no --keep-logs entries'}`);
  const spans = taskSpans(o.calls, o.jobId);
  const success = o.calls.find((c) => c.jobId === o.jobId && c.operation === 'PutObject' && c.key?.endsWith('_SUCCESS'));
  out.push(`_SUCCESS PUT at ${at(success?.ts)}, seen by the bench at ${at(o.doneMs)} (ms from the manifest upload)`);
  out.push('', '| worker | task | claim | first GET | last GET | output PUT | commit | claim → commit ms | job CPU (cores) |', '|---|---|---|---|---|---|---|---|---|');
  for (const s of spans) {
    const cpu = s.commit ? cpuBetween(o.samples, s.claim, s.commit, o.cores).job.toFixed(2) : '–';
    out.push(`| ${s.pid} | ${s.task} | ${at(s.claim)} | ${at(s.firstGet)} | ${at(s.lastGet)} | ${at(s.put)} | ${at(s.commit)} | ${s.commit ? s.commit - s.claim : '–'} | ${cpu} |`);
  }
  // Gaps on each worker: before its first claim, between a commit and the next claim, after its last commit.
  out.push('', '| worker | gap | from | to | ms | job CPU (cores) | machine busy (cores) |', '|---|---|---|---|---|---|---|');
  const end = success?.ts ?? o.doneMs;
  for (const pid of [...new Set(spans.map((s) => s.pid))]) {
    let free = o.submitMs;
    let after = 'submit';
    for (const s of spans.filter((x) => x.pid === pid)) {
      const row = (from: number, to: number, what: string) => {
        const c = cpuBetween(o.samples, from, to, o.cores);
        out.push(`| ${pid} | ${what} | ${at(from)} | ${at(to)} | ${to - from} | ${c.job.toFixed(2)} | ${c.machine.toFixed(2)} |`);
      };
      row(free, s.claim, `${after} → ${s.task}`);
      free = s.commit ?? s.claim;
      after = s.task;
    }
    const c = cpuBetween(o.samples, free, end, o.cores);
    out.push(`| ${pid} | ${after} → _SUCCESS | ${at(free)} | ${at(end)} | ${end - free} | ${c.job.toFixed(2)} | ${c.machine.toFixed(2)} |`);
  }
  // Windows where the job used under one core: summed by what the workers were doing.
  const idle = new Map<string, number>();
  for (let i = 1; i < o.samples.length; i++) {
    const [a, b] = [o.samples[i - 1]!, o.samples[i]!];
    if (b.t <= o.submitMs || a.t >= end) continue;
    const used = (b.workers - a.workers + b.emulator - a.emulator + b.bench - a.bench) / ((b.t - a.t) / 1000);
    if (used >= 1) continue;
    const mid = (a.t + b.t) / 2;
    const doing = [...new Set(spans.map((s) => s.pid))]
      .map((pid) => spans.find((s) => s.pid === pid && s.claim <= mid && (s.commit ?? Infinity) >= mid)?.task.slice(0, 1) ?? '-')
      .join('');
    idle.set(doing, (idle.get(doing) ?? 0) + (b.t - a.t));
  }
  out.push('', ...phaseCpu(spans, o.samples, o.submitMs, end));
  out.push('', `windows where the job used < 1 core, ms by what the workers ran (m = map, r = reduce, - = none): ${[...idle].map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`);
  return out;
}

/**
 * Each worker's own CPU (user, system) split by what it ran: map attempts, reduce attempts
 * (claim → commit), or no task, from the 100 ms samples (a sample pair's CPU goes to what the
 * worker ran at the pair's midpoint).
 */
export function phaseCpu(spans: readonly TaskSpan[], samples: readonly CpuSample[], from: number, to: number): string[] {
  const out = ['| worker | map user, sys s | reduce user, sys s | no task user, sys s |', '|---|---|---|---|'];
  const pids = [...new Set(spans.map((s) => s.pid))];
  const sum = { map: [0, 0], reduce: [0, 0], none: [0, 0] };
  for (const pid of pids) {
    const by = { map: [0, 0], reduce: [0, 0], none: [0, 0] };
    for (let i = 1; i < samples.length; i++) {
      const [a, b] = [samples[i - 1]!, samples[i]!];
      if (b.t <= from || a.t >= to) continue;
      const [x, y] = [a.perWorker.get(pid), b.perWorker.get(pid)];
      if (!x || !y || y.user + y.sys === 0) continue;
      const mid = (a.t + b.t) / 2;
      const task = spans.find((s) => s.pid === pid && s.claim <= mid && (s.commit ?? Infinity) >= mid)?.task;
      const phase = task === undefined ? 'none' : task.startsWith('m-') ? 'map' : 'reduce';
      by[phase][0]! += y.user - x.user;
      by[phase][1]! += y.sys - x.sys;
    }
    const cell = (v: number[]) => `${v[0]!.toFixed(2)}, ${v[1]!.toFixed(2)}`;
    out.push(`| ${pid} | ${cell(by.map)} | ${cell(by.reduce)} | ${cell(by.none)} |`);
    for (const k of ['map', 'reduce', 'none'] as const) for (const j of [0, 1]) sum[k][j]! += by[k][j]!;
  }
  const cell = (v: number[]) => `${v[0]!.toFixed(2)}, ${v[1]!.toFixed(2)}`;
  out.push(`| both | ${cell(sum.map)} | ${cell(sum.reduce)} | ${cell(sum.none)} |`);
  return out;
}
