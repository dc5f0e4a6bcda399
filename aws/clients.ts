/**
 * SDK clients for S3, SQS and DynamoDB, configured once for AWS or an emulator.
 *
 * The standard variables are honoured: AWS_ENDPOINT_URL (emulator), AWS_REGION
 * (or AWS_DEFAULT_REGION), and the usual credential chain. Against an emulator,
 * S3 is path-style.
 *
 * Every call is bounded and retried here, once for all callers: the SDK's standard retry
 * mode (exponential backoff with full jitter, throttling and 5xx and connection errors
 * retried) with MR_AWS_MAX_ATTEMPTS attempts (default 5); a connection must open within
 * 3 s; a socket with no bytes flowing for SOCKET_IDLE_MS is dropped (a black-holed request,
 * or a stream that stalls mid-body); and a DynamoDB or SQS request must be answered within
 * its REQUEST_TIMEOUT_MS (a long poll included). S3 has no total deadline, only the idle one,
 * so a large upload or download that keeps moving is never cut.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import http from 'node:http';
import https from 'node:https';
import { EnvironmentError } from '../core/errors.js';
import { bucketReadClient, cachedClientReader, destroyBucketReaders, registerBucketReaders } from './bucket-readers.js';
import { leanRangeReader, replayHandler } from './lean-range-reader.js';
import type { RequestCounter } from './request-counter.js';

export interface AwsClients {
  readonly s3: S3Client;
  readonly sqs: SQSClient;
  readonly ddb: DynamoDBClient;
  readonly doc: DynamoDBDocumentClient;
  /** The emulator endpoint, or undefined on AWS. */
  readonly endpoint: string | undefined;
  readonly region: string;
  /** Counts requests by `Service.Operation` when the caller asked for it (the worker does). */
  readonly requests?: RequestCounter;
}

/** Called once per API request: used by the benchmark to count control-plane calls. */
export type CallObserver = (service: string, operation: string, input: unknown) => void;

export interface ClientOptions {
  readonly endpoint?: string;
  readonly region?: string;
  readonly observer?: CallObserver;
  /** Count every request of these clients (attempt history). */
  readonly requestCounter?: RequestCounter;
  /** Override of the answer deadline of DynamoDB and SQS requests (REQUEST_TIMEOUT_MS). */
  readonly requestTimeoutMs?: number;
}

export const LOCAL_ENDPOINT = 'http://127.0.0.1:4566';

/** A connection to the endpoint must open within this. */
export const CONNECTION_TIMEOUT_MS = 3000;
/** A socket with no bytes flowing for this long is dropped and the request retried. */
export const SOCKET_IDLE_MS = { s3: 30_000, sqs: 30_000, dynamodb: 10_000 } as const;
/** A request must be answered within this (SQS: a 20 s long poll plus margin). */
export const REQUEST_TIMEOUT_MS = { sqs: 30_000, dynamodb: 10_000 } as const;
/** SDK attempts per call (first try plus retries) unless MR_AWS_MAX_ATTEMPTS says otherwise. */
export const DEFAULT_MAX_ATTEMPTS = 5;

function maxAttemptsFromEnv(env: Env): number {
  const n = Number(env.MR_AWS_MAX_ATTEMPTS);
  return Number.isInteger(n) && n >= 1 ? n : DEFAULT_MAX_ATTEMPTS;
}

type Env = Readonly<Record<string, string | undefined>>;

function endpointFromEnv(env: Env = process.env): string | undefined {
  return env.AWS_ENDPOINT_URL || undefined;
}

function regionFromEnv(env: Env = process.env): string | undefined {
  return env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined;
}

/** Build the clients. Throws EnvironmentError when no region is configured. */
export function createClients(options: ClientOptions = {}, env: Env = process.env): AwsClients {
  const endpoint = options.endpoint ?? endpointFromEnv(env);
  const region = options.region ?? regionFromEnv(env) ?? (endpoint ? 'us-east-1' : undefined);
  if (!region) {
    throw new EnvironmentError(
      'No AWS region configured. Set AWS_REGION (for example `export AWS_REGION=us-east-1`) or AWS_PROFILE with a region, ' +
        'or run against the local stack with `mapreduce local up` / AWS_ENDPOINT_URL=http://127.0.0.1:4566.',
    );
  }
  // Emulators accept any credentials; on AWS the default chain applies.
  const credentials =
    endpoint && !env.AWS_ACCESS_KEY_ID && !env.AWS_PROFILE
      ? { accessKeyId: 'test', secretAccessKey: 'test' }
      : undefined;
  const handler = (service: keyof typeof SOCKET_IDLE_MS, agents: Agents) => {
    const total = service === 's3' ? 0 : (options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS[service]);
    return new NodeHttpHandler({
      connectionTimeout: CONNECTION_TIMEOUT_MS,
      socketTimeout: SOCKET_IDLE_MS[service],
      ...(total > 0 ? { requestTimeout: total, throwOnRequestTimeout: true } : {}),
      httpAgent: agents.http,
      httpsAgent: agents.https,
    });
  };
  const s3Agents = newAgents();
  // One endpoint for all three services (an emulator, a local stack): one pool of connections,
  // so an idle connection left by one service serves the next request of any. Without it a
  // reducer held its slice fetch's connections beside the idle ones of the claim, the poll and
  // the commit, all to the same host (docs/performance.md, session 15). On AWS each service
  // is its own host, and so its own pool in any agent: one agent each, as the SDK makes them.
  const [sqsAgents, ddbAgents] = endpoint ? [s3Agents, s3Agents] : [newAgents(), newAgents()];
  const common = { region, endpoint, credentials, retryMode: 'standard', maxAttempts: maxAttemptsFromEnv(env) };
  const s3Config = {
    ...common,
    requestHandler: handler('s3', s3Agents),
    forcePathStyle: endpoint !== undefined,
    // An emulator stores the SDK's CRC32 of an upload without checking it, and decoding the
    // checksummed (aws-chunked) body cost it more CPU than storing the bytes: against one,
    // checksums are sent only where S3 requires them (DeleteObjects). S3 verifies them: kept.
    ...(endpoint ? { requestChecksumCalculation: 'WHEN_REQUIRED' as const } : {}),
  };
  const s3 = new S3Client(s3Config);
  agentsOf.set(s3, s3Agents);
  const sqs = new SQSClient({ ...common, requestHandler: handler('sqs', sqsAgents) });
  const ddb = new DynamoDBClient({ ...common, requestHandler: handler('dynamodb', ddbAgents) });
  const counter = options.requestCounter;
  const instrument = (client: S3Client | SQSClient | DynamoDBClient, service: 's3' | 'sqs' | 'dynamodb') => {
    if (options.observer) observe(client, service, options.observer);
    counter?.attach(client, { s3: 'S3', sqs: 'SQS', dynamodb: 'DynamoDB' }[service]);
  };
  instrument(s3, 's3');
  instrument(sqs, 'sqs');
  instrument(ddb, 'dynamodb');
  // Decodes the error responses of the lean slice reads (aws/lean-range-reader.ts): the same
  // configuration, a handler that replays the response already received, no retries of its own.
  let decoder: S3Client | undefined;
  registerBucketReaders(s3, {
    makeClient: (bucket) => {
      // Same configuration, handler and sockets as `s3`; only the middleware cache differs.
      const reader = new S3Client({ ...s3Config, cacheMiddleware: true });
      reader.middlewareStack.add(
        (next, context) => async (args) => {
          const to = (args.input as { Bucket?: string }).Bucket;
          if (context.commandName !== 'GetObjectCommand' || to !== bucket) {
            throw new Error(`The S3 read client of bucket ${bucket} sends GetObject to it only, not ${context.commandName} to ${to}.`);
          }
          return next(args);
        },
        { step: 'initialize', name: 'mapreduceOneBucketGets' },
      );
      instrument(reader, 's3');
      return reader;
    },
    makeRangeReader: (bucket) =>
      leanRangeReader(bucket, {
        client: s3,
        decoder: (decoder ??= new S3Client({ ...s3Config, maxAttempts: 1, requestHandler: replayHandler })),
        fallback: cachedClientReader(bucketReadClient(clients, bucket), bucket),
        onRead: (input) => {
          options.observer?.('s3', 'GetObject', input);
          counter?.add('S3', 'GetObject');
        },
      }),
    close: () => decoder?.destroy(),
  });
  const doc = DynamoDBDocumentClient.from(ddb, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
  const clients: AwsClients = { s3, sqs, ddb, doc, endpoint, region, ...(counter ? { requests: counter } : {}) };
  return clients;
}

function observe(client: S3Client | SQSClient | DynamoDBClient, service: string, observer: CallObserver): void {
  // The three clients' stacks differ only in their input/output types; the middleware is type-agnostic.
  (client.middlewareStack as S3Client['middlewareStack']).add(
    (next, context) => async (args) => {
      observer(service, String(context.commandName ?? 'unknown').replace(/Command$/, ''), args.input);
      return next(args);
    },
    { step: 'initialize', name: 'mapreduceCallObserver' },
  );
}

interface Agents {
  readonly http: http.Agent;
  readonly https: https.Agent;
}
/** The SDK's own defaults (keep-alive, 50 sockets per host), made here so closeIdleS3Sockets can reach them. */
function newAgents(): Agents {
  return { http: new http.Agent({ keepAlive: true, maxSockets: 50 }), https: new https.Agent({ keepAlive: true, maxSockets: 50 }) };
}
const agentsOf = new WeakMap<S3Client, Agents>();

/**
 * Close the S3 client's idle keep-alive sockets; returns how many. A reduce fetches up to
 * its fetch concurrency of slices at once, and S3 keeps the connections open: without this
 * a long-lived worker would hold that many idle sockets after each reduce until S3 drops
 * them. Sockets of requests in flight are not touched. (The local emulator keeps connections
 * open too: local/moto-keep-alive.ts.) When the three clients share one endpoint they share
 * one pool, and its idle sockets are closed whichever service used them last.
 */
export function closeIdleS3Sockets(c: AwsClients): number {
  const agents = agentsOf.get(c.s3);
  let closed = 0;
  for (const agent of agents ? [agents.http, agents.https] : []) {
    for (const sockets of Object.values(agent.freeSockets)) {
      for (const socket of [...(sockets ?? [])]) {
        socket.destroy(); // its 'close' takes it out of the agent's pool
        closed++;
      }
    }
  }
  return closed;
}

/** Release sockets so processes and tests exit promptly. */
export function destroyClients(c: AwsClients): void {
  destroyBucketReaders(c.s3);
  c.s3.destroy();
  c.sqs.destroy();
  c.ddb.destroy();
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENOTFOUND', 'ETIMEDOUT', 'EPIPE']);

/** True when an SDK error means the endpoint is unreachable (not an API error). */
function isConnectionError(err: unknown): boolean {
  let e: unknown = err;
  for (let i = 0; i < 5 && e; i++) {
    const code = (e as { code?: string }).code;
    const name = (e as { name?: string }).name;
    if ((code && CONNECTION_CODES.has(code)) || name === 'TimeoutError') return true;
    const errors = (e as { errors?: unknown[] }).errors;
    if (Array.isArray(errors) && errors.some(isConnectionError)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** True when the SDK could not find credentials. */
function isCredentialsError(err: unknown): boolean {
  const name = (err as { name?: string })?.name ?? '';
  return name === 'CredentialsProviderError' || /Could not load credentials/i.test(String((err as Error)?.message));
}

/**
 * Map connectivity and credential failures to an actionable EnvironmentError
 * naming the endpoint; return any other error unchanged.
 */
export function explainEnvironmentError(err: unknown, endpoint: string | undefined): unknown {
  if (isConnectionError(err)) {
    const where = endpoint ?? 'the AWS endpoint';
    return new EnvironmentError(
      `Cannot reach ${where}. ${
        endpoint
          ? 'Is the local stack running? Start it with `mapreduce local up` (or `npm run local:start` for the bare emulator).'
          : 'Check your network and AWS_REGION.'
      }`,
      { cause: err, context: { endpoint } },
    );
  }
  if (isCredentialsError(err)) {
    return new EnvironmentError(
      'No AWS credentials found. Set AWS_PROFILE (see `aws configure`) or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, ' +
        'or use the local stack with AWS_ENDPOINT_URL=http://127.0.0.1:4566.',
      { cause: err },
    );
  }
  return err;
}
