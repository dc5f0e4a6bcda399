/**
 * The one definition of every AWS resource the framework uses.
 *
 * Both the CDK stack (`infra/`) and the local bootstrap (`local/bootstrap.ts`) read
 * this module, so the table keys, indexes, TTL attribute and queue settings are
 * identical on AWS and on the local emulator. It is plain data: no AWS imports.
 */

/** DynamoDB attribute types used in key schemas. */
export type KeyAttributeType = 'S' | 'N';

export interface KeyAttribute {
  readonly name: string;
  readonly type: KeyAttributeType;
}

export interface IndexDefinition {
  readonly indexName: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  /** All indexes project every attribute: they are small, sparse views. */
  readonly projection: 'ALL';
}

export interface TableDefinition {
  /** Logical id, used by CDK and as the suffix of the local table name. */
  readonly id: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  readonly globalSecondaryIndexes: readonly IndexDefinition[];
  /** Attribute holding an epoch-seconds expiry; garbage collection only, never liveness. */
  readonly timeToLiveAttribute: string;
}

export interface QueueDefinition {
  readonly id: string;
  readonly visibilityTimeoutSeconds: number;
  readonly receiveWaitTimeSeconds: number;
  readonly messageRetentionSeconds: number;
  /** After this many receives without a delete the message moves to the DLQ. */
  readonly maxReceiveCount: number;
  readonly deadLetterRetentionSeconds: number;
}

export interface BucketDefinition {
  readonly id: string;
  /** Prefixes whose objects are intermediate or temporary and expire. */
  readonly expiringPrefixes: readonly { prefix: string; days: number }[];
  /** S3 notifications sent to the submissions queue. */
  readonly submissionTriggers: readonly { prefix: string; suffix: string }[];
}

/**
 * The state table: jobs, tasks, worker heartbeats and checker guards share one
 * table (single-table design), told apart by their keys:
 *
 *   pk = JOB#<jobId>      sk = JOB              the job record and its counters
 *   pk = JOB#<jobId>      sk = TASK#M#00042     a map task    (R for reduce)
 *   pk = WORKER#<id>      sk = WORKER           a worker heartbeat (TTL'd)
 *   pk = GUARD#<name>     sk = GUARD            a checker-run guard (TTL'd)
 *
 * Index `active` is sparse: only active jobs and running or requeued tasks carry
 * `activeKind`, so the checker reads a small set every sweep instead of scanning.
 * Index `byType` lists jobs by creation time and workers for `mapreduce status`.
 */
export const STATE_TABLE: TableDefinition = {
  id: 'State',
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  globalSecondaryIndexes: [
    {
      indexName: 'active',
      partitionKey: { name: 'activeKind', type: 'S' },
      sortKey: { name: 'activeSort', type: 'S' },
      projection: 'ALL',
    },
    {
      indexName: 'byType',
      partitionKey: { name: 'itemType', type: 'S' },
      sortKey: { name: 'typeSort', type: 'S' },
      projection: 'ALL',
    },
  ],
  timeToLiveAttribute: 'expiresAt',
};

/** Submissions: S3 notifications for manifests and `_READY` markers, read by the coordinator. */
export const SUBMISSIONS_QUEUE: QueueDefinition = {
  id: 'Submissions',
  visibilityTimeoutSeconds: 120,
  receiveWaitTimeSeconds: 20,
  messageRetentionSeconds: 4 * 24 * 3600,
  maxReceiveCount: 5,
  deadLetterRetentionSeconds: 14 * 24 * 3600,
};

/** Tasks: one message per map or reduce task, long-polled by workers. */
export const TASKS_QUEUE: QueueDefinition = {
  id: 'Tasks',
  // Workers extend visibility while they heartbeat; correctness never depends on it. It is
  // how long a message stays hidden when a receive's answer is lost (a reset or a timed-out
  // long poll) or its worker dies before claiming: only SQS can hand it out again, so the
  // task waits this long. 30 s, not 60: half the stall, for one more visibility extension
  // per ~24 s of a running task (worker/heartbeat.ts `visibilityDue`).
  visibilityTimeoutSeconds: 30,
  receiveWaitTimeSeconds: 20,
  messageRetentionSeconds: 4 * 24 * 3600,
  maxReceiveCount: 8,
  deadLetterRetentionSeconds: 14 * 24 * 3600,
};

export const JOB_BUCKET: BucketDefinition = {
  id: 'Jobs',
  expiringPrefixes: [
    // Intermediate map output and temp reduce output: useless once the job ends.
    { prefix: 'tmp/', days: 7 },
  ],
  submissionTriggers: [
    { prefix: 'jobs/', suffix: '/job.json' },
    { prefix: 'incoming/', suffix: '/_READY' },
  ],
};

/** Concrete names of one deployment's resources (one CDK stack or one local stack). */
export interface ResourceNames {
  readonly bucket: string;
  readonly table: string;
  readonly tasksQueue: string;
  readonly tasksDlq: string;
  readonly submissionsQueue: string;
  readonly submissionsDlq: string;
}

/**
 * Names for a local stack. The prefix makes every test's resources unique, so
 * parallel tests never share state and the emulator never needs a reset.
 */
export function localResourceNames(prefix: string): ResourceNames {
  if (!/^[a-z0-9][a-z0-9-]{1,40}$/.test(prefix)) {
    throw new Error(`Invalid stack prefix "${prefix}": use 2-41 lowercase letters, digits and dashes.`);
  }
  return {
    bucket: `${prefix}-jobs`,
    table: `${prefix}-state`,
    tasksQueue: `${prefix}-tasks`,
    tasksDlq: `${prefix}-tasks-dlq`,
    submissionsQueue: `${prefix}-submissions`,
    submissionsDlq: `${prefix}-submissions-dlq`,
  };
}

export const DEFAULT_LOCAL_PREFIX = 'mapreduce-local';

/**
 * The runtime metrics' names (CloudWatch embedded metric format, services/metrics.ts): the
 * dashboard (infra/constructs/monitoring.ts) reads the same names by default.
 */
export const METRIC_NAMES = {
  tasksCompleted: 'TasksCompleted',
  tasksFailed: 'TasksFailed',
  jobDuration: 'JobDuration',
  speculativeAttempts: 'SpeculativeAttempts',
  speculativeWins: 'SpeculativeWins',
} as const;
