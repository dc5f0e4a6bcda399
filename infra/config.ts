/**
 * Deployment settings of the MapReduce stack: the props, their defaults, and how they
 * are read from CDK context (`cdk.json` or `cdk deploy -c maxWorkers=50`).
 */
import type { StackProps } from 'aws-cdk-lib';
import { DEFAULT_TIMINGS, type Timings } from '../core/config.js';

export type WorkerArchitecture = 'x86_64' | 'arm64';

/** Runtime timings the stack passes to the coordinator, checker and workers. */
export type TimingSettings = Pick<
  Timings,
  'heartbeatMs' | 'missedHeartbeats' | 'maxAttempts' | 'taskTimeoutMs' | 'checkerIntervalMs'
>;

export interface MapReduceSettings {
  /** Most worker tasks running at once. @default 10 */
  readonly maxWorkers: number;
  /** Fargate CPU units per worker (1024 = 1 vCPU). @default 1024 */
  readonly workerCpu: number;
  /** Fargate memory per worker, MiB; must suit `workerCpu`. @default 2048 */
  readonly workerMemoryMiB: number;
  /**
   * V8 heap limit of a worker, MiB. @default half of `workerMemoryMiB`, at least twice the
   * sort buffer + 96 (core/worker-heap.ts)
   */
  readonly workerHeapMiB?: number;
  /** Ephemeral disk per worker for sort spills, GiB (20-200). @default 20 */
  readonly workerStorageGiB: number;
  /** CPU architecture of the worker image and tasks; arm64 is ~20% cheaper but must build arm64 images. @default 'x86_64' */
  readonly workerArchitecture: WorkerArchitecture;
  /**
   * Run workers beyond `onDemandWorkers` on Fargate Spot (up to ~70% cheaper). An
   * interrupted worker gets SIGTERM, releases its task and another worker reruns it, so
   * MapReduce tasks suit Spot. @default true
   */
  readonly useSpot: boolean;
  /**
   * With `useSpot`, this many workers run on on-demand Fargate first, so jobs progress
   * while Spot capacity is short (ECS does not fall back from Spot by itself). @default 1
   */
  readonly onDemandWorkers: number;
  /** Minutes with no queued or running task before every worker stops. @default 5 */
  readonly idleMinutesBeforeScaleIn: number;
  /** Heartbeat, lease, retry and checker settings. @default DEFAULT_TIMINGS from core/config.ts */
  readonly timings: TimingSettings;
  /** Deploy into this existing VPC (needs account and region, and credentials at synth). @default a new VPC */
  readonly existingVpcId?: string;
  /** NAT gateways of a new VPC; 0 gives isolated subnets with ECR and Logs endpoints instead. @default 1 */
  readonly natGateways: number;
  /** Availability zones of a new VPC. @default 2 */
  readonly maxAzs: number;
  /** Create S3, DynamoDB and SQS endpoints (turn off when an existing VPC has them). @default true */
  readonly vpcEndpoints: boolean;
  /** Other buckets that hold job inputs or outputs; workers and the checker may read and write them. @default none */
  readonly dataBucketNames: readonly string[];
  /** SNS topic that receives the DLQ alarms. @default no alarm action */
  readonly alarmTopicArn?: string;
  /** Keep the job bucket, state table and log bucket when the stack is deleted. @default true */
  readonly retainData: boolean;
  /** CloudWatch namespace of the runtime's metrics (POWERTOOLS_METRICS_NAMESPACE). @default 'MapReduce' */
  readonly metricsNamespace: string;
}

export const DEFAULT_SETTINGS: MapReduceSettings = {
  maxWorkers: 10,
  workerCpu: 1024,
  workerMemoryMiB: 2048,
  workerStorageGiB: 20,
  workerArchitecture: 'x86_64',
  useSpot: true,
  onDemandWorkers: 1,
  idleMinutesBeforeScaleIn: 5,
  timings: {
    heartbeatMs: DEFAULT_TIMINGS.heartbeatMs,
    missedHeartbeats: DEFAULT_TIMINGS.missedHeartbeats,
    maxAttempts: DEFAULT_TIMINGS.maxAttempts,
    taskTimeoutMs: DEFAULT_TIMINGS.taskTimeoutMs,
    checkerIntervalMs: DEFAULT_TIMINGS.checkerIntervalMs,
  },
  natGateways: 1,
  maxAzs: 2,
  vpcEndpoints: true,
  dataBucketNames: [],
  retainData: true,
  metricsNamespace: 'MapReduce',
};

/** Stack props: every setting is optional and falls back to DEFAULT_SETTINGS. */
export interface MapReduceStackProps extends StackProps, Partial<Omit<MapReduceSettings, 'timings'>> {
  readonly timings?: Partial<TimingSettings>;
  /**
   * Folder holding package.json, lambdas/ and worker/Dockerfile.
   * @default the repository this file belongs to
   */
  readonly projectRoot?: string;
}

/** Fill in defaults and check the values that CloudFormation would only reject at deploy time. */
export function resolveSettings(props: MapReduceStackProps = {}): MapReduceSettings {
  const d = DEFAULT_SETTINGS;
  const s: MapReduceSettings = {
    maxWorkers: props.maxWorkers ?? d.maxWorkers,
    workerCpu: props.workerCpu ?? d.workerCpu,
    workerMemoryMiB: props.workerMemoryMiB ?? d.workerMemoryMiB,
    workerHeapMiB: props.workerHeapMiB || undefined,
    workerStorageGiB: props.workerStorageGiB ?? d.workerStorageGiB,
    workerArchitecture: props.workerArchitecture ?? d.workerArchitecture,
    useSpot: props.useSpot ?? d.useSpot,
    onDemandWorkers: props.onDemandWorkers ?? d.onDemandWorkers,
    idleMinutesBeforeScaleIn: props.idleMinutesBeforeScaleIn ?? d.idleMinutesBeforeScaleIn,
    timings: { ...d.timings, ...props.timings },
    existingVpcId: props.existingVpcId || undefined,
    natGateways: props.natGateways ?? d.natGateways,
    maxAzs: props.maxAzs ?? d.maxAzs,
    vpcEndpoints: props.vpcEndpoints ?? d.vpcEndpoints,
    dataBucketNames: props.dataBucketNames ?? d.dataBucketNames,
    alarmTopicArn: props.alarmTopicArn || undefined,
    retainData: props.retainData ?? d.retainData,
    metricsNamespace: props.metricsNamespace ?? d.metricsNamespace,
  };
  const int = (name: string, v: number, min: number, max: number) => {
    if (!Number.isInteger(v) || v < min || v > max)
      throw new Error(`${name} must be an integer in [${min}, ${max}], got ${v}`);
  };
  int('maxWorkers', s.maxWorkers, 1, 1000);
  int('onDemandWorkers', s.onDemandWorkers, 0, 1000);
  int('workerCpu', s.workerCpu, 256, 16384);
  int('workerMemoryMiB', s.workerMemoryMiB, 512, 122880);
  int('workerStorageGiB', s.workerStorageGiB, 20, 200);
  int('idleMinutesBeforeScaleIn', s.idleMinutesBeforeScaleIn, 1, 60);
  int('natGateways', s.natGateways, 0, 3);
  int('maxAzs', s.maxAzs, 1, 6);
  for (const [k, v] of Object.entries(s.timings)) int(`timings.${k}`, v, 1, 24 * 3600 * 1000);
  if (s.workerArchitecture !== 'x86_64' && s.workerArchitecture !== 'arm64') {
    throw new Error(`workerArchitecture must be x86_64 or arm64, got ${String(s.workerArchitecture)}`);
  }
  for (const b of s.dataBucketNames) {
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(b))
      throw new Error(`Invalid bucket name in dataBucketNames: "${b}"`);
  }
  return s;
}

/** Context keys read by `propsFromContext`, with the type each is parsed as. */
const CONTEXT_KEYS = {
  maxWorkers: 'number',
  workerCpu: 'number',
  workerMemoryMiB: 'number',
  workerHeapMiB: 'number',
  workerStorageGiB: 'number',
  workerArchitecture: 'string',
  useSpot: 'boolean',
  onDemandWorkers: 'number',
  idleMinutesBeforeScaleIn: 'number',
  existingVpcId: 'string',
  natGateways: 'number',
  maxAzs: 'number',
  vpcEndpoints: 'boolean',
  dataBucketNames: 'list',
  alarmTopicArn: 'string',
  retainData: 'boolean',
  metricsNamespace: 'string',
  heartbeatMs: 'timing',
  missedHeartbeats: 'timing',
  maxAttempts: 'timing',
  taskTimeoutMs: 'timing',
  checkerIntervalMs: 'timing',
} as const;

function parse(key: string, kind: string, raw: unknown): unknown {
  if (kind === 'string') return String(raw);
  if (kind === 'boolean') {
    if (typeof raw === 'boolean') return raw;
    if (raw === 'true' || raw === '1') return true;
    if (raw === 'false' || raw === '0') return false;
    throw new Error(`Context ${key} must be true or false, got "${String(raw)}"`);
  }
  if (kind === 'list') {
    if (Array.isArray(raw)) return raw.map(String);
    return String(raw)
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
  }
  const n = typeof raw === 'number' ? raw : Number(raw);
  if (!Number.isFinite(n)) throw new Error(`Context ${key} must be a number, got "${String(raw)}"`);
  return n;
}

/**
 * Stack props from CDK context. `tryGetContext` reads `cdk.json`, `~/.cdk.json` and
 * `-c key=value` (always a string there, hence the parsing).
 */
export function propsFromContext(tryGetContext: (key: string) => unknown): MapReduceStackProps {
  const props: Record<string, unknown> = {};
  const timings: Record<string, unknown> = {};
  for (const [key, kind] of Object.entries(CONTEXT_KEYS)) {
    const raw = tryGetContext(key);
    if (raw === undefined || raw === null || raw === '') continue;
    if (kind === 'timing') timings[key] = parse(key, 'number', raw);
    else props[key] = parse(key, kind, raw);
  }
  return { ...props, timings } as MapReduceStackProps;
}
