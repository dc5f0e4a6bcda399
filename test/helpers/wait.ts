/**
 * The one poll loop of the tests: wait for a condition on state (records, objects,
 * processes, output), never for a fixed time.
 */

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface WaitOptions {
  /** @default 60_000 */
  readonly timeoutMs?: number;
  /** @default 100 */
  readonly intervalMs?: number;
  /** Appended to the timeout error: what the state was (job status, output so far). */
  readonly detail?: () => string | Promise<string>;
}

/**
 * Poll `probe` until it returns something other than undefined/false and return that.
 * Throws after the timeout, naming `what` was awaited; a probe that throws ends the wait.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  o: WaitOptions = {},
): Promise<T> {
  const timeoutMs = o.timeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) {
      const detail = o.detail ? `\n${await o.detail()}` : '';
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
    }
    await sleep(o.intervalMs ?? 100);
  }
}
