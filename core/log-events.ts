/**
 * The event names the worker, the services and the Lambdas log (the `message` of each
 * structured log line). Tests and operators' log queries match on these constants, so a
 * renamed event changes here and everywhere it is matched at once.
 */
export const LOG_EVENTS = {
  workerStarted: 'Worker started',
  workerStopping: 'Stopping',
  workerStopped: 'Worker stopped',
  /** The recycle policy (core/worker-recycle.ts) ended the loop at a task boundary: the process exits to be replaced. */
  workerRecycling: 'Worker recycling: exiting to be replaced',
  pollingFailed: 'Polling failed; retrying',
  taskMessageFailed: 'Task message could not be handled',
  unreadableTaskMessage: 'Unreadable task message left for the DLQ',
  unknownJobTaskMessage: 'Task message for an unknown job left for the DLQ',
  taskClaimed: 'Task claimed',
  /** Debug level: a reduce attempt's process memory by part at its start and end (core/worker-heap.ts `memoryBreakdown`). */
  reduceMemory: 'Reduce attempt memory',
  /** Debug level: the most descriptors a reduce attempt held when it looked (worker/descriptor-peak.ts). */
  reduceDescriptors: 'Reduce attempt peak descriptors',
  heartbeatFailed: 'Heartbeat failed',
  leaseExtensionFailed: 'Lease extension failed; retrying on the next beat',
  /** The lease keeper thread extended a lease while user code blocked the worker (once per attempt). */
  leaseKeptWhileBlocked: 'Lease kept by the lease keeper while the worker was blocked',
  /** A write of the lease keeper thread was lost (not refused); it retries on its next tick. */
  leaseKeeperWriteFailed: 'Lease keeper write failed; retrying',
  /** The lease keeper thread could not start or died: only the main thread beats. */
  leaseKeeperUnavailable: 'Lease keeper thread unavailable; heartbeats from the main thread only',
  lostAnswerApplied: 'A write whose answer was lost had been applied',
  endedJobFilesRemoved: 'Files of ended jobs removed',
  endedJobFilesRemovalFailed: 'Could not remove the files of ended jobs; trying again later',
  planWritten: 'Plan written',
  mapTasksSent: 'Map tasks sent',
  /** The heartbeat found the lease taken: the running attempt is aborted. */
  leaseLost: 'Lease lost; stopping the attempt',
  /** A lease extension was refused because the job ended (its end marked the task): the attempt is cancelled. */
  jobEndedStopping: 'Job ended; stopping the attempt',
  /** A job ended but marking its tasks failed: running attempts stop at their commit or job read instead. */
  jobTasksStopFailed: 'Could not stop the tasks of an ended job',
  commitRenewingLease: 'Commit refused on an expired lease nobody took over; renewing it',
  commitAlreadyApplied: 'Commit had already been applied (its response was lost)',
  taskCommitted: 'Task committed',
  releaseFailed: 'Release failed',
  /** The attempt lost its lease while its worker still held the task: the task is handed back. */
  attemptLostLeaseReleased: 'Attempt lost its lease; its output is discarded and the task released',
  /** The attempt lost its lease to another attempt: its output is discarded. */
  attemptLostLease: 'Attempt lost its lease; its output is discarded',
  taskReleasedForShutdown: 'Task released for shutdown',
  /** The message delete or the job's next phase after a commit failed; the checker's sweep makes the phase change. */
  afterCommitFailed: 'After a commit, the message delete or the phase change failed',
  attemptFailed: 'Attempt failed',
  stalledTaskRepublished: 'Stalled task republished',
  deadLetteredTaskResent: 'Dead-lettered task message sent again',
  lostTaskMessageResent: 'Never-claimed task sent again: its message was lost (tasks queue empty)',
  checkerSweepFailed: 'Checker sweep failed',
  checkerRunFinished: 'Checker run finished',
  jobCreated: 'Job created',
  jobRejected: 'Job rejected',
  reducePhaseStarted: 'Reduce phase started',
  reducesReleased: 'Reduce tasks released early (slow-start)',
  earlyReducerWaiting: 'Early reducer waiting for map commits',
  earlyReducerDone: 'Early reducer saw every map commit',
  earlyReducerYielded: 'Early reducer gave its worker to waiting maps',
  stepStarted: 'Job step started',
  jobSucceeded: 'Job succeeded',
  jobTmpDeleted: 'Temporary objects of the succeeded job deleted',
  /** Left to the bucket's tmp/ expiry rule. */
  jobTmpDeleteFailed: 'Could not delete the temporary objects of the succeeded job; the tmp/ expiry removes them',
  submissionHandled: 'Submission handled',
  submissionFailed: 'Submission failed; it will be retried',
  submissionDropped: 'Submission dropped: it cannot succeed',
  batchWaiting: 'Batch waiting for objects',
  speculationFailed: 'Speculation step failed',
  backupPosted: 'Backup attempt posted',
  backupResent: 'Unclaimed backup attempt sent again',
  deadBackupTakenBack: 'Dead backup attempt taken back',
  backupClaimed: 'Backup attempt claimed',
  supersededEntryNotWritten: 'Superseded entry not written',
  loserObjectNotDeleted: 'Temp object of a losing attempt not deleted',
  attemptSuperseded: 'Attempt superseded: another attempt of the task committed first',
  backupEnded: 'Backup attempt ended',
  backupLostLease: 'Backup attempt ended after losing its lease',
  localCoordinatorFailed: 'Local coordinator failed; the submission will be retried',
  /** A `local up` worker process exited while the stack runs; a replacement follows. */
  localWorkerExited: 'Local worker exited; starting another',
  localWorkerReplaced: 'Local worker replaced',
  /** A worker exited with WORKER_RECYCLE_EXIT_CODE: started again at once, not a death. */
  localWorkerRecycled: 'Local worker recycled; starting another',
  /** A worker slot died quickly MAX_QUICK_RESTARTS times in a row: the stack stops replacing it. */
  localWorkerGivenUp: 'Local worker keeps dying; not replacing it any more',
  /** The local stack found a job left CREATING by a coordinator that died, and resumes its plan. */
  localPlanResumed: 'Plan of a job left CREATING resumed',
  /** The worker's parent (the local stack) is gone: the worker stops. */
  parentGone: 'Parent process gone; stopping',
  /** A message received by a long poll that returned after the stop began: made visible again. */
  messageReleasedOnStop: 'Message received while stopping released',
} as const;

/** One of the logged event names. */
export type LogEvent = (typeof LOG_EVENTS)[keyof typeof LOG_EVENTS];
