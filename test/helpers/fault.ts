/**
 * Fault-injection helpers for the fault-tolerance tests (test/fault/*): find the
 * worker process running a task and signal exactly that process, shipped test
 * scripts that are slow enough to be interrupted, a deterministic input, an
 * isolated emulator namespace with an injectable clock for seeding stale state,
 * draining the task queue, a test-only queue decorator that sends every task
 * message twice (in this process and, through a NODE_OPTIONS preload, in workers),
 * and a private emulator per test file (see privateEmulator for why).
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { bootstrapLocalStack } from '../../local/bootstrap.js';
import { type AwsClients, createClients, destroyClients } from '../../aws/clients.js';
import { ensureEmulator } from '../../local/emulator.js';
import type { Queue } from '../../aws/queue.js';
import type { TaskItem } from '../../aws/task-store.js';
import type { Timings } from '../../core/config.js';
import type { JobRecord, TaskKind, TaskRecord } from '../../core/model.js';
import { localResourceNames, type ResourceNames } from '../../core/resources.js';
import { createServices, type Services, silentLog } from '../../services/context.js';
import { ENDPOINT, FAST_TIMINGS, REPO, TestStack, type TestStackOptions } from './stack.js';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Poll `probe` until it returns something other than undefined/false; throws after timeoutMs. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 60_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v as T;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** The pid inside a worker id `${hostname}-${pid}-${hex}` (worker/worker.ts newWorkerId). */
export function workerPidOf(workerId: string): number {
  const parts = workerId.split('-');
  const pid = Number(parts[parts.length - 2]);
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`No pid in worker id ${workerId}`);
  return pid;
}

/** The worker child process of this stack with that worker id (never any other process). */
export function workerProcess(t: TestStack, workerId: string): ChildProcess {
  const pid = workerPidOf(workerId);
  const child = t.stack.workerProcesses.find((c) => c.pid === pid);
  if (!child) throw new Error(`Worker ${workerId} (pid ${pid}) is not a worker process of this stack`);
  return child;
}

/** Send `signal` to the worker process that owns the given worker id; returns the child. */
export function signalWorker(t: TestStack, workerId: string, signal: NodeJS.Signals): ChildProcess {
  const child = workerProcess(t, workerId);
  if (child.exitCode !== null || child.signalCode !== null) throw new Error(`Worker ${workerId} already exited`);
  if (!child.kill(signal)) throw new Error(`Could not send ${signal} to worker ${workerId}`);
  return child;
}

/** Resolves when the child process has exited (or at once if it already has). */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * Wait until a task of `kind` of the job has been RUNNING for at least `minRunningMs`
 * (so its attempt is in the middle of its work). Returns the task record.
 */
export async function waitForRunningTask(
  t: TestStack,
  jobId: string,
  kind: TaskKind,
  minRunningMs = 300,
  timeoutMs = 60_000,
): Promise<TaskItem & { owner: string }> {
  return waitFor(
    `a ${kind} task of ${jobId} running for ${minRunningMs} ms`,
    async () => {
      const now = Date.now();
      // The task item names its owner (the worker id holds the pid); the worker item
      // reports its running task only every few beats, so it is not waited for.
      const running = (await t.s.tasks.list(jobId, kind)).filter(
        (x) => x.status === 'RUNNING' && x.owner && (x.claimedAt ?? now) <= now - minRunningMs,
      );
      return running[0] as (TaskItem & { owner: string }) | undefined;
    },
    timeoutMs,
  );
}

/**
 * A deterministic text input: `lines` lines of words drawn from a small vocabulary
 * by a fixed LCG, so that keys repeat across splits and every run sees the same bytes.
 */
export function syntheticText(lines: number, seed = 42): Buffer {
  const vocab = (
    'alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike ' +
    'november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu'
  ).split(' ');
  let x = seed >>> 0;
  const next = () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x;
  };
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    const n = 3 + (next() % 8);
    const words: string[] = [];
    for (let j = 0; j < n; j++) words.push(vocab[next() % vocab.length] as string);
    out.push(words.join(' '));
  }
  return Buffer.from(`${out.join('\n')}\n`);
}

/**
 * Test mapper: `word<TAB>line-number-within-split` for every word, after sleeping
 * MAP_SLEEP seconds so a test can interrupt it in the middle of the task.
 */
export const INDEX_MAPPER = `#!/bin/sh
export LC_ALL=C
sleep "\${MAP_SLEEP:-0}"
awk '{ for (i = 1; i <= NF; i++) print $i "\\t" NR }'
`;

/**
 * Test reducer: \`word<TAB>count<TAB>values in arrival order\`, after sleeping
 * REDUCE_SLEEP seconds. Keeping the values' order in the output makes a byte
 * comparison also check that the merge order is deterministic.
 */
export const INDEX_REDUCER = `#!/bin/sh
export LC_ALL=C
sleep "\${REDUCE_SLEEP:-0}"
awk -F '\\t' '
  $1 != k { if (NR > 1) print k "\\t" n "\\t" v; k = $1; n = 0; v = "" }
  { n++; v = v (n > 1 ? "," : "") $2 }
  END { if (NR > 0) print k "\\t" n "\\t" v }'
`;

/** A mapper that always fails, with a recognisable stderr line. */
export const FAILING_MAPPER = `#!/bin/sh
echo "fault-test: mapper refuses record 1 (exit 1)" >&2
exit 1
`;

/** Upload a script body as a shipped file (workers make every shipped file executable). */
export async function putScript(t: TestStack, key: string, body: string): Promise<string> {
  await t.blobs.putBytes(t.bucket, key, body);
  return `s3://${t.bucket}/${key}`;
}

/** Sum of the count column of the index job's output, i.e. the number of words it saw. */
export function indexWordTotal(parts: Buffer[]): number {
  let total = 0;
  for (const line of Buffer.concat(parts).toString('latin1').split('\n')) {
    if (line) total += Number(line.split('\t')[1]);
  }
  return total;
}

export function countWords(text: Buffer): number {
  return text
    .toString('latin1')
    .split(/\s+/)
    .filter((w) => w.length > 0).length;
}

/** Throw a readable error unless every part file is byte-identical. */
export function expectIdenticalParts(actual: Buffer[], expected: Buffer[], what: string): void {
  if (actual.length !== expected.length) {
    throw new Error(`${what}: ${actual.length} part files, expected ${expected.length}`);
  }
  actual.forEach((a, i) => {
    const e = expected[i] as Buffer;
    if (!a.equals(e)) {
      throw new Error(`${what}: part-${i} differs (${a.length} bytes vs ${e.length} expected)`);
    }
  });
}

/** The worker log lines (JSON) that mention the given worker id. */
export function workerLogLines(t: TestStack, workerId: string): string[] {
  return t
    .workerLogs()
    .split('\n')
    .filter((l) => l.includes(workerId));
}

/** A job's counters with sorted names, for comparing runs. */
export function sortedCounters(job: JobRecord): Record<string, number> {
  return Object.fromEntries(Object.entries(job.counters).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

// ---------------------------------------------------------------------------
// Isolated namespaces for seeding state directly (no workers, no coordinator loop).

export interface Namespace {
  readonly names: ResourceNames;
  readonly clients: AwsClients;
  /** A fresh Services over this namespace (own clients) whose clock is `now`. */
  services(now: () => number, timings?: Partial<Timings>): Services;
  close(): void;
}

/** Create the resources of a unique prefix on the emulator (no LocalStack, no loops). */
export async function isolatedNamespace(endpoint: string = ENDPOINT): Promise<Namespace> {
  const names = localResourceNames(`f-${randomBytes(5).toString('hex')}`);
  const clients = createClients({ endpoint, region: 'us-east-1' });
  await bootstrapLocalStack(clients, names);
  const extra: AwsClients[] = [];
  return {
    names,
    clients,
    services(now, timings = {}) {
      const c = createClients({ endpoint, region: 'us-east-1' });
      extra.push(c);
      return createServices(c, names, { ...FAST_TIMINGS, ...timings }, silentLog, now);
    },
    close() {
      for (const c of [clients, ...extra]) destroyClients(c);
    },
  };
}

/**
 * A private emulator on a free port, started by local/emulator.ts (moto with DynamoDB
 * requests serialised). The fault tests use one each rather than the shared emulator:
 * they make conditional writes race and commits get refused on purpose, and an
 * emulator that was started before that fix (plain `python -m moto.server`) does not
 * apply those atomically (measured on it: two concurrent reclaims of one task both held
 * in 5 of 30 tries; a refused commit undid a concurrent claim of another task in 22 of
 * 39), which would make the tests fail for the emulator's reasons, not the framework's.
 */
export interface PrivateEmulator {
  readonly endpoint: string;
  stop(): Promise<void>;
}

export async function privateEmulator(): Promise<PrivateEmulator> {
  const port = await new Promise<number>((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const p = (srv.address() as { port: number }).port;
      srv.close(() => resolve(p));
    });
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const handle = await ensureEmulator({ endpoint, timeoutMs: 60_000 });
  return { endpoint, stop: () => handle.stop() };
}

/** A TestStack on its own private emulator; `stop()` stops both. */
export async function startFaultStack(o: Omit<TestStackOptions, 'endpoint'> = {}): Promise<TestStack> {
  const emu = await privateEmulator();
  try {
    const t = await TestStack.start({ ...o, endpoint: emu.endpoint });
    const stop = t.stop.bind(t);
    t.stop = async () => {
      try {
        await stop();
      } finally {
        await emu.stop();
      }
    };
    return t;
  } catch (err) {
    await emu.stop();
    throw err;
  }
}

/** Every message now in the queue (each received once, hidden for 5 minutes); stops after an empty poll. */
export async function drainQueue(s: Services, queue: Queue = s.taskQueue, waitSeconds = 1): Promise<string[]> {
  const QueueUrl = await queue.queueUrl();
  const bodies: string[] = [];
  for (let empty = 0; empty < 2; ) {
    const out = await s.clients.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: waitSeconds,
        VisibilityTimeout: 300,
      }),
    );
    const got = out.Messages ?? [];
    if (got.length === 0) empty++;
    else empty = 0;
    for (const m of got) bodies.push(m.Body ?? '');
  }
  return bodies;
}

/**
 * A private emulator for the test file and a fresh isolated namespace for each test,
 * with the hooks that start, create, close and stop them registered in the calling
 * `describe`. Read `ns` and `s` (services on `now`) inside tests or hooks.
 */
export function usePrivateNamespace(now: () => number = Date.now): {
  readonly ns: Namespace;
  readonly s: Services;
} {
  let emu: PrivateEmulator | undefined;
  const state = {} as { ns: Namespace; s: Services };
  beforeAll(async () => {
    emu = await privateEmulator();
  });
  afterAll(async () => {
    await emu?.stop();
  });
  beforeEach(async () => {
    state.ns = await isolatedNamespace(emu!.endpoint);
    state.s = state.ns.services(now);
  });
  afterEach(() => state.ns?.close());
  return state;
}

/** Visible + in-flight + delayed messages of a queue (approximate, as SQS reports them). */
export async function queueDepth(s: Services, queue: Queue = s.taskQueue): Promise<number> {
  const out = await s.clients.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: await queue.queueUrl(),
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  const a = out.Attributes ?? {};
  return (
    Number(a.ApproximateNumberOfMessages ?? 0) +
    Number(a.ApproximateNumberOfMessagesNotVisible ?? 0) +
    Number(a.ApproximateNumberOfMessagesDelayed ?? 0)
  );
}

/** Task ids named by task-message bodies, sorted. */
export function taskIdsOf(bodies: string[]): string[] {
  return bodies.map((b) => (JSON.parse(b) as { taskId: string }).taskId).sort();
}

/** A RUNNING job record in MAP phase, as the coordinator leaves it. */
export function runningJob(jobId: string, numMaps: number, numReduces: number, now: number): JobRecord {
  return {
    jobId,
    status: 'RUNNING',
    phase: 'MAP',
    manifest: {
      input: 's3://nowhere/in/',
      output: 's3://nowhere/out/',
      mapper: 'cat',
      ...(numReduces > 0 ? { reducer: 'cat' } : {}),
      files: [],
      numReducers: numReduces,
    } as unknown as JobRecord['manifest'],
    numMaps,
    numReduces,
    mapsCommitted: 0,
    reducesCommitted: 0,
    inputBytes: 0,
    counters: {},
    createdAt: new Date(now).toISOString(),
    updatedAt: new Date(now).toISOString(),
  };
}

/** PENDING task records of a job, as the coordinator writes them. */
export function pendingTasks(
  jobId: string,
  kind: TaskKind,
  n: number,
  extra: Partial<TaskRecord> = {},
): TaskRecord[] {
  return Array.from({ length: n }, (_, index) => ({
    jobId,
    taskId: `${kind === 'map' ? 'm' : 'r'}-${String(index).padStart(5, '0')}`,
    kind,
    index,
    status: 'PENDING' as const,
    attempt: 0,
    failures: 0,
    stalls: 0,
    ...extra,
  }));
}

// ---------------------------------------------------------------------------
// Duplicate delivery: a test-only decorator on Queue.sendAll that sends every body twice.

export interface DuplicateSends {
  /** NODE_OPTIONS for worker processes: preloads the decorator into them. */
  readonly workerEnv: Record<string, string>;
  /** Decorate an in-process queue (the local stack's coordinator and checker). */
  decorate(q: Queue): void;
  /** Start (or stop) sending every message twice, in this process and in the workers. */
  enable(on?: boolean): void;
  /** Bodies sent while enabled (each went out twice), in this process and in the workers. */
  sent(): { inProcess: string[]; workers: string[] };
  cleanup(): void;
}

/**
 * Every task message sent twice: each `sendAll(bodies)` sends `[...bodies, ...bodies]`,
 * so every message, whoever sends it (coordinator, checker, the worker that starts the
 * reduce phase, a retry), exists twice in the queue and is delivered twice. Off until
 * `enable()`, so a clean run can share the stack; a flag file switches the workers.
 */
export function duplicateSends(): DuplicateSends {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mr-dup-'));
  const log = path.join(dir, 'worker-sends.jsonl');
  const flag = path.join(dir, 'enabled');
  writeFileSync(log, '');
  const queueModule = pathToFileURL(path.join(REPO, 'dist', 'aws', 'queue.js')).href;
  const preload = path.join(dir, 'duplicate-sends.mjs');
  // Runs before the worker's own modules; ESM modules are singletons per URL, so the
  // worker's Queue class is this one and every sendAll in the worker goes through here.
  writeFileSync(
    preload,
    `import { appendFileSync, existsSync } from 'node:fs';
const { Queue } = await import(${JSON.stringify(queueModule)});
const sendAll = Queue.prototype.sendAll;
Queue.prototype.sendAll = async function (bodies, delaySeconds) {
  if (!existsSync(${JSON.stringify(flag)})) return sendAll.call(this, bodies, delaySeconds);
  appendFileSync(${JSON.stringify(log)}, bodies.map((b) => JSON.stringify(b) + '\\n').join(''));
  return sendAll.call(this, [...bodies, ...bodies], delaySeconds);
};
`,
  );
  const inProcess: string[] = [];
  let enabled = false;
  return {
    workerEnv: { NODE_OPTIONS: `--import=${pathToFileURL(preload).href}` },
    decorate(q) {
      const sendAll = q.sendAll.bind(q);
      q.sendAll = async (bodies, delaySeconds) => {
        if (!enabled) return sendAll(bodies, delaySeconds);
        inProcess.push(...bodies);
        return sendAll([...bodies, ...bodies], delaySeconds);
      };
    },
    enable(on = true) {
      enabled = on;
      if (on) writeFileSync(flag, '');
      else rmSync(flag, { force: true });
    },
    sent() {
      const workers = readFileSync(log, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as string);
      return { inProcess: [...inProcess], workers };
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * t.waitForJob, but a timeout reports the job's tasks and the workers' warnings, and
 * saves the full worker logs to test-results/ so a hang can be diagnosed.
 */
export async function finish(t: TestStack, jobId: string, timeoutMs = 90_000): Promise<JobRecord> {
  try {
    return await t.waitForJob(jobId, timeoutMs);
  } catch (err) {
    const tasks = await t.s.tasks.list(jobId).catch(() => []);
    const file = path.join(REPO, 'test-results', `fault-${jobId}-workers.log`);
    writeFileSync(file, t.workerLogs());
    const warnings = t
      .workerLogs()
      .split('\n')
      .filter((l) => /"level":"(WARN|ERROR)"/.test(l))
      .slice(-20);
    const brief = tasks.map((x) => ({
      taskId: x.taskId,
      status: x.status,
      attempt: x.attempt,
      owner: x.owner,
      claimedAt: x.claimedAt,
      leaseExpiresAt: x.leaseExpiresAt,
      stalls: x.stalls,
      failures: x.failures,
    }));
    throw new Error(
      `${(err as Error).message}\nnow=${Date.now()}\ntasks: ${JSON.stringify(brief)}\nworkers: ${JSON.stringify(
        await t.s.workers.list().catch(() => []),
      )}\nlast warnings:\n${warnings.join('\n')}\nworker logs: ${file}`,
      { cause: err },
    );
  }
}

/** Save the stack's worker logs to test-results/fault-<name>.log (for diagnosing a failed or slow run). */
export function saveWorkerLogs(t: TestStack | undefined, name: string): void {
  if (!t) return;
  try {
    writeFileSync(path.join(REPO, 'test-results', `fault-${name}.log`), t.workerLogs());
  } catch {
    // diagnostics only
  }
}
