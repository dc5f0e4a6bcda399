/**
 * Duplicate delivery: a test-only decorator on Queue.sendAll that sends every body twice,
 * in this process and, through a NODE_OPTIONS preload, in the workers.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Queue } from '../../aws/queue.js';
import { REPO } from './stack.js';

export interface DuplicateSends {
  /** NODE_OPTIONS for worker processes: preloads the decorator into them (run from the module tree, MR_CLI_FROM_MODULES). */
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
    // The workers run the module tree (bin/mapreduce.js): the bundle has its own Queue class.
    workerEnv: { NODE_OPTIONS: `--import=${pathToFileURL(preload).href}`, MR_CLI_FROM_MODULES: '1' },
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
