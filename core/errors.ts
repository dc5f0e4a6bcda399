/**
 * The one error hierarchy of the framework. Every error has a stable `name`,
 * an optional `cause`, and a `context` object with the facts needed to act on it
 * (job id, task id, key...). Secrets never go into `context`.
 */
export class MapReduceError extends Error {
  override readonly name: string = 'MapReduceError';
  readonly context: Readonly<Record<string, unknown>>;

  constructor(message: string, options: { cause?: unknown; context?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.context = options.context ?? {};
  }
}

/**
 * A mistake by the user (bad flag, bad manifest, missing file). The CLI prints
 * only the message, never a stack trace, and exits with code 2.
 */
export class UsageError extends MapReduceError {
  override readonly name: string = 'UsageError';
}

/** A manifest that fails validation; `issues` lists each bad field. */
export class ManifestError extends UsageError {
  override readonly name: string = 'ManifestError';
  readonly issues: readonly string[];

  constructor(issues: readonly string[], options: { cause?: unknown; context?: Record<string, unknown> } = {}) {
    super(`Invalid job manifest:\n${issues.map((i) => `  - ${i}`).join('\n')}`, options);
    this.issues = issues;
  }
}

/** An S3 URI or key that is malformed or escapes the job's prefixes. */
export class InvalidKeyError extends UsageError {
  override readonly name: string = 'InvalidKeyError';
}

/**
 * The AWS endpoint (local emulator or AWS) cannot be reached, or credentials or
 * region are missing. The message says how to start the local stack or set a profile.
 */
export class EnvironmentError extends UsageError {
  override readonly name: string = 'EnvironmentError';
}

/**
 * A conditional write lost: the item is no longer in the state this transition
 * required (another worker owns it, the lease moved on, it was already committed).
 * `current` is the record as DynamoDB returned it with the failed condition (validated),
 * if any. The one way a lost condition is reported.
 */
export class StaleStateError<T extends object = object> extends MapReduceError {
  override readonly name: string = 'StaleStateError';
  readonly current: T | undefined;

  constructor(
    message: string,
    current: T | undefined,
    options: { cause?: unknown; context?: Record<string, unknown> } = {},
  ) {
    super(message, options);
    this.current = current;
  }
}

/** The attempt lost its lease: it must stop and must not write final output. */
export class LeaseLostError<T extends object = object> extends StaleStateError<T> {
  override readonly name: string = 'LeaseLostError';
}

/**
 * The attempt's job ended (cancelled or failed): it stops, and its task is cancelled, not
 * retried. Thrown when a lease extension is refused because the job's end marked the task
 * (`current.jobEnded`, aws/task-conflicts.ts), and by an early reducer that reads the job
 * ended; `current` is the task record the refusal returned, when there is one.
 */
export class JobEndedError<T extends object = object> extends StaleStateError<T> {
  override readonly name: string = 'JobEndedError';
}

/** A task attempt failed (non-zero exit, crash, timeout); it may be retried. */
export class TaskFailedError extends MapReduceError {
  override readonly name: string = 'TaskFailedError';
  /** The last lines of the executable's stderr, for the job's failure reason. */
  readonly stderrTail: string;

  constructor(
    message: string,
    stderrTail: string,
    options: { cause?: unknown; context?: Record<string, unknown> } = {},
  ) {
    super(message, options);
    this.stderrTail = stderrTail;
  }
}

/**
 * Do not retry: the task can never succeed (missing executable, unreadable job
 * definition). The job fails at once instead of burning its attempts.
 */
export class PoisonTaskError extends TaskFailedError {
  override readonly name: string = 'PoisonTaskError';
}

/** A stored item that does not have the shape its record type says (corrupt or foreign data). */
export class InvalidRecordError extends MapReduceError {
  override readonly name: string = 'InvalidRecordError';
}

/** True when `err` is one of ours with the given name (works across module copies). */
export function isErrorNamed(err: unknown, name: string): boolean {
  return err instanceof Error && err.name === name;
}

/**
 * A submission the framework refuses (reserved or overlapping output, missing or
 * empty input, an output already holding objects, a bad job id). The message is
 * the reason shown by the CLI and stored on the job record; it is never retried.
 */
export class SubmissionRefusedError extends UsageError {
  override readonly name: string = 'SubmissionRefusedError';
}

/** A submission over one of the documented limits (manifest size, fields, map tasks). */
export class LimitExceededError extends SubmissionRefusedError {
  override readonly name: string = 'LimitExceededError';
}

/**
 * Do not retry: handling this input again cannot succeed (a malformed message, a
 * bug met on this input). The caller ends the work visibly at once (a FAILED job,
 * a dropped message with a log line) instead of letting the queue redeliver it.
 */
export class DoNotRetryError extends MapReduceError {
  override readonly name: string = 'DoNotRetryError';
}

/** Names of AWS SDK and Node errors that a later try may not meet (throttling, outages, network). */
const TRANSIENT_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'SlowDown',
  'InternalError',
  'InternalServerError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'TransactionConflictException',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'AbortError',
]);
const TRANSIENT_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'EHOSTUNREACH']);

/**
 * True when a later try may succeed: throttling, a 5xx, a timeout or a network
 * error. Usage errors, DoNotRetryError and anything else (a bug met on this input,
 * a 4xx) are poison: retrying would only delay the failure.
 */
export function isTransient(err: unknown): boolean {
  if (!(err instanceof Error) || err instanceof UsageError || err instanceof DoNotRetryError) return false;
  const e = err as Error & { code?: string; $retryable?: unknown; $metadata?: { httpStatusCode?: number } };
  if (e.$retryable !== undefined || TRANSIENT_NAMES.has(e.name) || TRANSIENT_CODES.has(e.code ?? '')) return true;
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined) return status >= 500 || status === 429;
  // An SDK error without a status is a client-side failure (connection, parse of a cut-off reply).
  return '$metadata' in e || (e.cause !== undefined && isTransient(e.cause));
}

/** A byte-range body that ended before its last byte (retried from the byte reached; worker/resume-range.ts). */
export class ShortRangeError extends MapReduceError {
  override readonly name = 'ShortRangeError';
}
