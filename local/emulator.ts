/**
 * Start, check and stop the local AWS emulator (moto server on LocalStack's port).
 * Users with LocalStack can run it instead: anything answering on the endpoint is used.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type ClientRequest, get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import path from 'node:path';
import { EnvironmentError } from '../core/errors.js';
import { MOTO_KEEP_ALIVE } from './moto-keep-alive.js';
import { MOTO_PATCHES } from './moto-patches.js';

export interface EmulatorHandle {
  readonly endpoint: string;
  readonly pid: number;
  /** True when this process started it (and so should stop it). */
  readonly started: boolean;
  stop(): Promise<void>;
}

/**
 * True when something answers HTTP on the endpoint within `timeoutMs`. A plain node:http GET:
 * the global `fetch` would load undici on its first call (20-30 ms of CPU at the start of
 * every CLI command that checks its stack, docs/performance.md, session 16).
 */
export function isEndpointUp(endpoint: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    let req: ClientRequest | undefined;
    // A deadline for the whole answer, as fetch's AbortSignal.timeout was.
    const deadline = setTimeout(() => req?.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    const settle = (up: boolean) => {
      clearTimeout(deadline);
      resolve(up);
    };
    try {
      const url = new URL(endpoint);
      // No keep-alive: the probe's socket closes with its answer and holds nothing open.
      req = (url.protocol === 'https:' ? httpsGet : httpGet)(url, { agent: false }, (res) => {
        res.on('error', () => settle(false));
        res.on('end', () => settle(true));
        res.resume();
      });
      req.on('error', () => settle(false));
    } catch {
      settle(false);
    }
  });
}

/** The Python that has moto: MR_PYTHON, then ./.venv, then python3. */
function emulatorPython(cwd = process.cwd(), env = process.env): string {
  if (env.MR_PYTHON) return env.MR_PYTHON;
  const venv = path.join(cwd, '.venv', 'bin', 'python');
  return existsSync(venv) ? venv : 'python3';
}

function hostPort(endpoint: string): { host: string; port: string } {
  const u = new URL(endpoint);
  return { host: u.hostname, port: u.port || '80' };
}

async function waitUntilUp(endpoint: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new EnvironmentError(
        `The emulator exited with code ${child.exitCode} before answering on ${endpoint}. ` +
          'Install it with `python3 -m pip install -r requirements-emulator.txt`.',
      );
    }
    if (await isEndpointUp(endpoint, 500)) return;
    await new Promise((r) => setTimeout(r, 150));
  }
  child.kill('SIGKILL');
  throw new EnvironmentError(`The emulator did not answer on ${endpoint} within ${timeoutMs} ms.`);
}

export interface StartOptions {
  readonly endpoint: string;
  /** Where the log goes; defaults to ignoring output. */
  readonly logFile?: string;
  /** Detach so the emulator outlives this process (for `npm run local:start`). */
  readonly detached?: boolean;
  readonly timeoutMs?: number;
}

/**
 * moto's server (`python -m moto.server`) with DynamoDB requests handled one at a time.
 * moto's threaded server checks a condition and then writes without a lock, so two
 * concurrent conditional writes to one item can both succeed; and a cancelled
 * TransactWriteItems restores a copy of the whole table taken when it started,
 * undoing other requests' writes made meanwhile. DynamoDB does neither; serialising
 * DynamoDB (S3 and SQS long polls stay concurrent) gives the framework the atomic
 * conditional writes it relies on. MOTO_PATCHES (local/moto-patches.ts) remove costs that
 * grow with the table, the queue or the size of an object, so thousands of tasks run at the
 * pace of a few and a ranged GET costs what it returns. MOTO_KEEP_ALIVE (local/moto-keep-alive.ts)
 * can keep connections open between requests, as AWS does (on unless MR_EMULATOR_KEEP_ALIVE=0).
 */
const SERIALIZED_MOTO = [
  'import os, sys, threading',
  'from werkzeug.serving import run_simple',
  'from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app',
  'host, port = sys.argv[1], int(sys.argv[2])',
  "os.environ.setdefault('MOTO_PORT', str(port))",
  MOTO_PATCHES,
  MOTO_KEEP_ALIVE,
  'app = DomainDispatcherApplication(create_backend_app)',
  'lock = threading.Lock()',
  'def serialized(environ, start_response):',
  "    if environ.get('HTTP_X_AMZ_TARGET', '').startswith('DynamoDB'):",
  '        with lock:',
  '            return list(app(environ, start_response))',
  '    return app(environ, start_response)',
  'run_simple(host, port, _noting_failures(serialized), threaded=True, request_handler=_request_handler())',
].join('\n');

/**
 * Use the emulator answering on `endpoint`, or start moto there. The handle's
 * `stop()` only stops what this call started.
 */
export async function ensureEmulator(opts: StartOptions): Promise<EmulatorHandle> {
  const { endpoint } = opts;
  // A busy emulator can take seconds to answer (a dead one refuses at once): probing with a
  // short timeout would start a second moto on the same port, which exits with code 1.
  if (await isEndpointUp(endpoint, 8000)) {
    return { endpoint, pid: 0, started: false, stop: async () => {} };
  }
  const { host, port } = hostPort(endpoint);
  if (host !== '127.0.0.1' && host !== 'localhost') {
    throw new EnvironmentError(`Nothing answers on ${endpoint}, and only a loopback emulator can be started here.`);
  }
  const out = opts.logFile ? openSync(opts.logFile, 'a') : 'ignore';
  const child = spawn(emulatorPython(), ['-c', SERIALIZED_MOTO, host, port], {
    stdio: ['ignore', out, out],
    detached: opts.detached ?? false,
  });
  const spawnError = new Promise<never>((_, reject) =>
    child.once('error', (err) =>
      reject(
        new EnvironmentError(
          `Could not start the emulator (${emulatorPython()} -m moto.server): ${err.message}. ` +
            'Install it with `python3 -m pip install -r requirements-emulator.txt`.',
          { cause: err },
        ),
      ),
    ),
  );
  await Promise.race([waitUntilUp(endpoint, child, opts.timeoutMs ?? 30_000), spawnError]);
  if (opts.detached) child.unref();
  const pid = child.pid as number;
  return {
    endpoint,
    pid,
    started: true,
    stop: () => stopProcess(child),
  };
}

/** SIGTERM, then SIGKILL after a grace period; resolves when the process is gone. */
export function stopProcess(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Pid file helpers for a detached emulator started by `npm run local:start` (emulator-main.ts). */
function pidFilePath(stateDir: string): string {
  return path.join(stateDir, 'emulator.pid');
}

export function writePidFile(stateDir: string, pid: number): void {
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(pidFilePath(stateDir), String(pid));
}

export function readPidFile(stateDir: string): number | undefined {
  const p = pidFilePath(stateDir);
  if (!existsSync(p)) return undefined;
  const pid = Number(readFileSync(p, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

export function removePidFile(stateDir: string): void {
  rmSync(pidFilePath(stateDir), { force: true });
}

