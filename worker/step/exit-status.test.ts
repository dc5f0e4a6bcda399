import { describe, expect, it } from 'vitest';
import { PoisonTaskError, TaskFailedError } from '../../core/errors.js';
import { exitError, spawnError, type StepExit } from './exit-status.js';

const exit = (o: Partial<StepExit>): StepExit => ({
  noun: 'mapper',
  name: 'wc.sh',
  code: 0,
  signal: null,
  killReason: undefined,
  noProgressTimeoutMs: 600_000,
  stderrTail: 'last line',
  ...o,
});

describe('exitError', () => {
  it('succeeds on exit 0, and on a non-zero exit when the job says it is no failure', () => {
    expect(exitError(exit({}))).toBeUndefined();
    expect(exitError(exit({ code: 3, nonZeroExitIsFailure: false }))).toBeUndefined();
  });

  it('fails a non-zero exit with its code and the stderr tail', () => {
    const err = exitError(exit({ code: 3 }));
    expect(err).toBeInstanceOf(TaskFailedError);
    expect((err as TaskFailedError).message).toContain('exited with code 3');
    expect((err as TaskFailedError).stderrTail).toBe('last line');
  });

  it('fails a signal death even when non-zero exits are allowed (no exit code to allow)', () => {
    const err = exitError(exit({ code: null, signal: 'SIGSEGV', nonZeroExitIsFailure: false }));
    expect(err).toBeInstanceOf(TaskFailedError);
    expect((err as Error).message).toContain('SIGSEGV');
  });

  it('lets the kill reason win over the exit status', () => {
    const cause = new Error('aborted');
    expect(exitError(exit({ code: 0, killReason: { kind: 'error', error: cause } }))).toBe(cause);
    const timeout = exitError(exit({ code: null, signal: 'SIGKILL', killReason: { kind: 'timeout' }, noProgressTimeoutMs: 1500 }));
    expect((timeout as Error).message).toContain('killed after 1.5 s without progress');
  });
});

describe('spawnError', () => {
  const errno = (code: string) => Object.assign(new Error(`spawn ${code}`), { code });

  it('makes a missing interpreter or a non-executable file a poison task, anything else retryable', () => {
    expect(spawnError('reducer', 'r.py', errno('ENOENT'))).toBeInstanceOf(PoisonTaskError);
    expect(spawnError('reducer', 'r.py', errno('EACCES'))).toBeInstanceOf(PoisonTaskError);
    const other = spawnError('reducer', 'r.py', errno('EAGAIN'));
    expect(other).toBeInstanceOf(TaskFailedError);
    expect(other).not.toBeInstanceOf(PoisonTaskError);
    expect(other.message).toContain('reducer "r.py" could not be started (EAGAIN)');
  });
});
