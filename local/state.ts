/**
 * The state file of a running `mapreduce local up`, so that `local down`, `run`
 * and other commands find it: `<MR_STATE_DIR or ~/.mapreduce>/local-<prefix>.json`.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface LocalState {
  readonly pid: number;
  readonly endpoint: string;
  readonly prefix: string;
  readonly workers: number;
  readonly startedAt: string;
  readonly logDir: string;
}

export function stateDir(): string {
  return process.env.MR_STATE_DIR || path.join(os.homedir(), '.mapreduce');
}

const file = (prefix: string) => path.join(stateDir(), `local-${prefix}.json`);

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The running local stack of this prefix, or undefined (a stale file is removed). */
export function readLocalState(prefix: string): LocalState | undefined {
  const f = file(prefix);
  if (!existsSync(f)) return undefined;
  const state = JSON.parse(readFileSync(f, 'utf8')) as LocalState;
  if (isAlive(state.pid)) return state;
  rmSync(f, { force: true });
  return undefined;
}

export function writeLocalState(state: LocalState): void {
  mkdirSync(stateDir(), { recursive: true });
  writeFileSync(file(state.prefix), JSON.stringify(state, null, 2));
}

export function removeLocalState(prefix: string): void {
  rmSync(file(prefix), { force: true });
}
