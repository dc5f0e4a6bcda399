/**
 * The lease keeper thread (started by worker/lease-keeper.ts): every half interval it
 * reads the shared state and does what keeperActions (worker/heartbeat.ts) says, with
 * its own clients on the worker's endpoint and region (aws/clients.ts: the same
 * deadlines and retries), through the same writes as a beat: TaskStore.heartbeat (the
 * owner-fenced lease write, or the backup's), Queue.setVisibility, and WorkerStore.beat
 * (the worker item naming the attempt, when it steps in). It never decides
 * an attempt's fate: a refused write is reported and it keeps nothing more for that attempt.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createClients, destroyClients } from '../aws/clients.js';
import { Queue } from '../aws/queue.js';
import { TaskStore } from '../aws/task-store.js';
import { WorkerStore } from '../aws/worker-store.js';
import { isErrorNamed, type StaleStateError } from '../core/errors.js';
import type { TaskRecord } from '../core/model.js';
import { TASKS_QUEUE } from '../core/resources.js';
import { type KeeperOwn, keeperActions } from './heartbeat.js';
import { type FromKeeper, type KeeperThreadData, readView, SLOT, storeSlot, type ToKeeper } from './lease-keeper.js';

type Tracked = Extract<ToKeeper, { type: 'track' }>;
type Own = { -readonly [K in keyof KeeperOwn]: KeeperOwn[K] };

const port = parentPort;
if (!port) throw new Error('worker/lease-keeper-thread.js runs as a worker thread only (worker/lease-keeper.ts starts it)');
const d = workerData as KeeperThreadData;
const shared = new BigInt64Array(d.shared);
const clients = createClients({ endpoint: d.endpoint, region: d.region });
const tasks = new TaskStore(clients, d.table);
const queue = new Queue(clients, d.tasksQueue);
const workers = new WorkerStore(clients, d.table);
let current: Tracked | undefined;
/** The keeper's own writes for the current attempt (reset when another is tracked). */
let own: Own = { itemWrittenAt: 0, leaseFailing: false };
let busy = false;

const post = (m: FromKeeper) => port.postMessage(m);
const message = (err: unknown) => (err instanceof Error ? `${err.name}: ${err.message}` : String(err));

/**
 * The worker item naming `a`, beside the lease write (a write that hangs must not hold it).
 * One still in flight when the attempt ends may land after the main thread's idle item; the
 * next idle beat (an interval later) writes it again, and meanwhile the stale name keeps
 * nothing: the checker keeps only a RUNNING task whose attempt the item names (shouldReclaim).
 */
async function writeItem(a: Tracked, o: Own, now: number): Promise<boolean> {
  try {
    await workers.beat({ ...a.item, heartbeatAt: now });
    o.itemWrittenAt = now;
    return true;
  } catch (err) {
    post({ type: 'failed', gen: a.gen, what: 'worker item', message: message(err) });
    return false;
  }
}

async function tick(a: Tracked): Promise<void> {
  const now = Date.now();
  const view = readView(shared, a.gen, a.blockedLimitMs);
  if (!view) return;
  const o = own;
  const act = keeperActions(view, now, d.heartbeatMs, o);
  const item = act.item ? writeItem(a, o, now) : undefined;
  if (act.lease) {
    try {
      await tasks.heartbeat(a.ref, now, d.leaseMs);
      o.leaseFailing = false;
      if (readView(shared, a.gen, a.blockedLimitMs)) storeSlot(shared, SLOT.leaseWrittenAt, now);
      post({ type: 'extended', gen: a.gen, at: now, workerItem: (await item) ?? false });
    } catch (err) {
      if (isErrorNamed(err, 'LeaseLostError') || isErrorNamed(err, 'JobEndedError')) {
        // Another attempt owns the task, this one ended (committed, released) or its job
        // ended (the task is marked): keep nothing more. The main thread tells which by `current`.
        if (current === a) current = undefined;
        post({ type: 'refused', gen: a.gen, message: message(err), current: (err as StaleStateError<TaskRecord>).current });
        return;
      }
      o.leaseFailing = true;
      post({ type: 'failed', gen: a.gen, what: 'lease', message: message(err) });
    }
  }
  await item;
  if (act.visibility) {
    const seconds = TASKS_QUEUE.visibilityTimeoutSeconds;
    try {
      await queue.setVisibility(a.receiptHandle, seconds);
      if (readView(shared, a.gen, a.blockedLimitMs)) storeSlot(shared, SLOT.visibleUntil, now + seconds * 1000);
    } catch (err) {
      post({ type: 'failed', gen: a.gen, what: 'visibility', message: message(err) });
    }
  }
}

const timer = setInterval(() => {
  const a = current;
  if (!a || busy) return;
  busy = true;
  void tick(a).finally(() => {
    busy = false;
  });
}, Math.max(10, Math.floor(d.heartbeatMs / 2)));

// Resolve the credentials once now (on AWS: the container's, fetched), not in the first write.
await clients.ddb.config.credentials().catch(() => undefined);
post({ type: 'ready', gen: 0 });

port.on('message', (m: ToKeeper) => {
  if (m.type === 'track') {
    current = m;
    own = { itemWrittenAt: 0, leaseFailing: false };
  }
  else if (m.type === 'untrack') current = undefined;
  else {
    clearInterval(timer);
    destroyClients(clients);
    port.close();
  }
});
