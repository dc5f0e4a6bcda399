/**
 * Where CLI output goes. Commands write through this so tests can capture it,
 * and set `exitCode` for outcomes that are not exceptions (a FAILED job).
 */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Whether stderr, where progress goes, is an interactive terminal (live bars) or not (plain lines). */
  readonly isTTY: boolean;
  exitCode?: number;
}

export function processIo(): Io {
  return {
    out: (t) => void process.stdout.write(t),
    err: (t) => void process.stderr.write(t),
    isTTY: process.stderr.isTTY === true,
  };
}

/** An Io that records everything (for tests and for `--json` assembly). */
export function memoryIo(isTTY = false): Io & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    isTTY,
    out(t: string) {
      io.stdout += t;
    },
    err(t: string) {
      io.stderr += t;
    },
  } as Io & { stdout: string; stderr: string };
  return io;
}
