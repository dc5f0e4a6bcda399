/**
 * The default stack, synthesized once with real esbuild bundling: every resource
 * property the deployment relies on.
 *
 * Over 300 lines on purpose: synthesizing with real bundling takes tens of seconds, so
 * every assertion on the default stack shares this file's one synthesis.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOB_BUCKET, METRIC_NAMES, STATE_TABLE, SUBMISSIONS_QUEUE, TASKS_QUEUE } from '../../core/resources.js';
import { workerSettingsFromEnv } from '../../core/config.js';
import { heapNodeArgs, WORKER_HEAP_ENV, WORKER_MEMORY_ENV, workerHeapMiB } from '../../core/worker-heap.js';
import type { MapReduceStack } from '../../infra/mapreduce-stack.js';
import { logicalId, resourcesOfType, type Synthesized, synth } from './synth.js';

let s: Synthesized;
let t: Template;
let stack: MapReduceStack;
const getAtt = (id: string, attr = 'Arn') => ({ 'Fn::GetAtt': [id, attr] });

/** The dashboard's body as JSON, each CloudFormation token (region, queue names) as the string TOKEN. */
function dashboardJson(template: Template): string {
  const body = (Object.values(resourcesOfType(template, 'AWS::CloudWatch::Dashboard'))[0]?.Properties.DashboardBody ?? '') as
    | string
    | { 'Fn::Join': [string, unknown[]] };
  if (typeof body === 'string') return body;
  const [sep, parts] = body['Fn::Join'];
  return parts.map((p) => (typeof p === 'string' ? p : 'TOKEN')).join(sep);
}

beforeAll(() => {
  s = synth({}, { bundle: true });
  t = s.template;
  stack = s.stack;
}, 300_000);
afterAll(() => s?.cleanup());

describe('job bucket', () => {
  it('is encrypted, private, access-logged and expires temporary objects', () => {
    t.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LoggingConfiguration: { DestinationBucketName: Match.anyValue(), LogFilePrefix: 'job-bucket/' },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({
            Prefix: 'tmp/',
            ExpirationInDays: JOB_BUCKET.expiringPrefixes[0]?.days,
            Status: 'Enabled',
          }),
          Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' }),
        ]),
      },
    });
  });

  it('refuses requests that are not over TLS', () => {
    t.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logicalId(stack, stack.jobBucket.bucket) },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('announces manifests and _READY markers, and only those, on the submissions queue', () => {
    const queueArn = getAtt(logicalId(stack, stack.submissions.queue));
    t.hasResourceProperties('Custom::S3BucketNotifications', {
      BucketName: { Ref: logicalId(stack, stack.jobBucket.bucket) },
      NotificationConfiguration: {
        QueueConfigurations: JOB_BUCKET.submissionTriggers.map((tr) => ({
          Events: ['s3:ObjectCreated:*'],
          Filter: {
            Key: {
              FilterRules: Match.arrayEquals([
                { Name: 'suffix', Value: tr.suffix },
                { Name: 'prefix', Value: tr.prefix },
              ]),
            },
          },
          QueueArn: queueArn,
        })),
      },
    });
    expect(JOB_BUCKET.submissionTriggers).toEqual([
      { prefix: 'jobs/', suffix: '/job.json' },
      { prefix: 'incoming/', suffix: '/_READY' },
    ]);
  });
});

describe('queues and table', () => {
  it('encrypts all four queues, enforces TLS and redrives to the DLQs', () => {
    const queues = resourcesOfType(t, 'AWS::SQS::Queue');
    expect(Object.keys(queues)).toHaveLength(4);
    for (const q of Object.values(queues)) expect(q.Properties.SqsManagedSseEnabled).toBe(true);
    for (const [pair, def] of [
      [stack.tasks, TASKS_QUEUE],
      [stack.submissions, SUBMISSIONS_QUEUE],
    ] as const) {
      t.hasResourceProperties('AWS::SQS::Queue', {
        RedrivePolicy: {
          deadLetterTargetArn: getAtt(logicalId(stack, pair.deadLetterQueue)),
          maxReceiveCount: def.maxReceiveCount,
        },
      });
    }
    const tlsDeny = Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
    const policies = t.findResources('AWS::SQS::QueuePolicy', {
      Properties: { PolicyDocument: { Statement: Match.arrayWith([tlsDeny]) } },
    });
    expect(Object.keys(policies)).toHaveLength(4);
  });

  it('creates the state table on demand, encrypted, with PITR and the TTL attribute', () => {
    t.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      SSESpecification: { SSEEnabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
    expect(STATE_TABLE.timeToLiveAttribute).toBe('expiresAt');
    t.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });
});

describe('Lambda functions', () => {
  const fn = (construct: { runtime: { function: { node: { defaultChild?: unknown } } } }) =>
    resourcesOfType(t, 'AWS::Lambda::Function')[logicalId(stack, construct.runtime.function)]?.Properties ?? {};

  it('run on arm64 and Node.js 24 with the MR_* environment', () => {
    for (const c of [stack.coordinator, stack.checker]) {
      const p = fn(c);
      expect(p.Runtime).toBe('nodejs24.x');
      expect(p.Architectures).toEqual(['arm64']);
      expect(p.Handler).toBe('index.handler');
      const vars = (p.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(vars.MR_BUCKET).toEqual({ Ref: logicalId(stack, stack.jobBucket.bucket) });
      expect(vars.MR_TABLE).toEqual({ Ref: logicalId(stack, stack.stateTable.table) });
      expect(vars.MR_TASKS_QUEUE).toEqual(getAtt(logicalId(stack, stack.tasks.queue), 'QueueName'));
      expect(vars.MR_SUBMISSIONS_QUEUE).toEqual(getAtt(logicalId(stack, stack.submissions.queue), 'QueueName'));
      expect(vars).toMatchObject({ MR_HEARTBEAT_MS: '2000', MR_MISSED_HEARTBEATS: '5', MR_MAX_ATTEMPTS: '4' });
      expect(vars).toMatchObject({ MR_TASK_TIMEOUT_MS: '600000', MR_CHECKER_INTERVAL_MS: '3000' });
    }
  });

  it('are bundled by esbuild into one ESM file that can require()', () => {
    for (const c of [stack.coordinator, stack.checker]) {
      const key = (fn(c).Code as { S3Key: string }).S3Key;
      const file = path.join(s.app.outdir, `asset.${key.replace(/\.zip$/, '')}`, 'index.mjs');
      expect(existsSync(file)).toBe(true);
      const head = readFileSync(file, 'utf8').slice(0, 200);
      expect(head).toContain("from 'node:module'");
      expect(head).toContain('createRequire');
    }
  });

  it('feeds the coordinator from the submissions queue with partial batch failures', () => {
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: getAtt(logicalId(stack, stack.submissions.queue)),
      FunctionName: { Ref: logicalId(stack, stack.coordinator.runtime.function) },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    expect(fn(stack.coordinator).Timeout as number).toBeLessThanOrEqual(SUBMISSIONS_QUEUE.visibilityTimeoutSeconds);
  });

  it('starts the checker every minute and lets it sweep for most of it', () => {
    t.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Targets: [
        Match.objectLike({
          Arn: getAtt(logicalId(stack, stack.checker.runtime.function)),
          RetryPolicy: { MaximumRetryAttempts: 0 },
        }),
      ],
    });
    expect(fn(stack.checker).Timeout).toBe(70);
  });
});

describe('workers', () => {
  it('run the worker image on Fargate with the same environment', () => {
    t.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Cpu: '1024',
      Memory: '2048',
      RequiresCompatibilities: ['FARGATE'],
      RuntimePlatform: { CpuArchitecture: 'X86_64', OperatingSystemFamily: 'LINUX' },
      ContainerDefinitions: [
        Match.objectLike({
          Environment: Match.arrayWith([
            { Name: 'MR_BUCKET', Value: { Ref: logicalId(stack, stack.jobBucket.bucket) } },
            { Name: 'MR_HEARTBEAT_MS', Value: '2000' },
            { Name: 'MR_SCRATCH_DIR', Value: '/tmp/mapreduce-worker' },
            { Name: WORKER_MEMORY_ENV, Value: '2048' },
            { Name: WORKER_HEAP_ENV, Value: '1024' },
          ]),
          // The heap limit of core/worker-heap.ts (half of 2048 MiB), as a node argument; the
          // worker under its supervisor, which replaces a recycled worker inside the container.
          Command: ['node', ...heapNodeArgs(workerHeapMiB({ memoryMiB: 2048, sortBufferBytes: workerSettingsFromEnv({}).sortBufferBytes })), 'bin/mapreduce.js', 'worker', '--supervise'],
          LinuxParameters: { InitProcessEnabled: true },
          LogConfiguration: Match.objectLike({ LogDriver: 'awslogs' }),
        }),
      ],
    });
    t.hasResourceProperties('AWS::ECS::Service', {
      DesiredCount: 0,
      // The default: one on-demand worker first, every further one on Spot.
      CapacityProviderStrategy: [
        { CapacityProvider: 'FARGATE', Base: 1, Weight: 0 },
        { CapacityProvider: 'FARGATE_SPOT', Weight: 1 },
      ],
      NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'DISABLED' }) },
    });
    t.hasResourceProperties('AWS::ECS::Cluster', {
      ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }],
    });
  });

  it('scale from 0 to maxWorkers on the task backlog (queued + in flight + delayed)', () => {
    t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      MinCapacity: 0,
      MaxCapacity: 10,
      ScalableDimension: 'ecs:service:DesiredCount',
    });
    const backlog = Match.arrayWith([
      Match.objectLike({ Expression: 'visible + inFlight + delayed' }),
      ...[
        'ApproximateNumberOfMessagesVisible',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ].map((m) =>
        Match.objectLike({
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({
              MetricName: m,
              Namespace: 'AWS/SQS',
              Dimensions: [{ Name: 'QueueName', Value: getAtt(logicalId(stack, stack.tasks.queue), 'QueueName') }],
            }),
          }),
        }),
      ),
    ]);
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
      EvaluationPeriods: 1,
      Metrics: backlog,
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ComparisonOperator: 'LessThanOrEqualToThreshold',
      Threshold: 0,
      EvaluationPeriods: 5,
      TreatMissingData: 'breaching',
      Metrics: backlog,
    });
    t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      StepScalingPolicyConfiguration: Match.objectLike({
        AdjustmentType: 'ExactCapacity',
        StepAdjustments: [
          { MetricIntervalLowerBound: 0, MetricIntervalUpperBound: 1, ScalingAdjustment: 1 },
          { MetricIntervalLowerBound: 1, MetricIntervalUpperBound: 2, ScalingAdjustment: 2 },
          { MetricIntervalLowerBound: 2, MetricIntervalUpperBound: 4, ScalingAdjustment: 4 },
          { MetricIntervalLowerBound: 4, MetricIntervalUpperBound: 8, ScalingAdjustment: 8 },
          { MetricIntervalLowerBound: 8, ScalingAdjustment: 10 },
        ],
      }),
    });
    t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      StepScalingPolicyConfiguration: Match.objectLike({
        AdjustmentType: 'ExactCapacity',
        StepAdjustments: [{ MetricIntervalUpperBound: 0, ScalingAdjustment: 0 }],
      }),
    });
  });
});

describe('network and observability', () => {
  it('has private subnets behind one NAT, with S3, DynamoDB and SQS endpoints and flow logs', () => {
    t.resourceCountIs('AWS::EC2::NatGateway', 1);
    const endpoints = Object.values(resourcesOfType(t, 'AWS::EC2::VPCEndpoint')).map((e) => ({
      type: e.Properties.VpcEndpointType,
      service: JSON.stringify(e.Properties.ServiceName),
    }));
    expect(endpoints).toHaveLength(3);
    expect(endpoints.filter((e) => e.type === 'Gateway').map((e) => e.service.match(/\.(s3|dynamodb)"/)?.[1])).toEqual(
      expect.arrayContaining(['s3', 'dynamodb']),
    );
    expect(endpoints.find((e) => e.type === 'Interface')?.service).toContain('.sqs');
    t.resourceCountIs('AWS::EC2::FlowLog', 1);
  });

  it('alarms when a DLQ holds a message, and has a dashboard', () => {
    for (const dlq of [stack.tasks.deadLetterQueue, stack.submissions.deadLetterQueue]) {
      t.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: getAtt(logicalId(stack, dlq), 'QueueName') }],
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Threshold: 1,
      });
    }
    const body = JSON.stringify(Object.values(resourcesOfType(t, 'AWS::CloudWatch::Dashboard'))[0]?.Properties);
    for (const needle of [
      'RunningTaskCount',
      'TasksCompleted',
      'TasksFailed',
      'JobDuration',
      'ApproximateNumberOfMessagesVisible',
      METRIC_NAMES.speculativeAttempts,
      METRIC_NAMES.speculativeWins,
    ]) {
      expect(body).toContain(needle);
    }
    // Per job step: the task metrics by their Step dimension (services/metrics.ts), one line each.
    const widgets = (JSON.parse(dashboardJson(t)) as { widgets: { properties: { title?: string; metrics?: unknown[][] } }[] }).widgets;
    const perStep = widgets.find((w) => w.properties.title === 'Tasks completed per job step (per minute)');
    expect(perStep).toBeDefined();
    const expressions = perStep!.properties.metrics!.map((m) => (m[0] as { expression: string }).expression);
    expect(expressions).toEqual([METRIC_NAMES.tasksCompleted, METRIC_NAMES.tasksFailed].map((n) => `SEARCH('{"MapReduce",Step,TaskKind,service} MetricName="${n}"', 'Sum', 60)`));
  });

  it('outputs the names the CLI reads with --stack', () => {
    const outputs = Object.keys(t.toJSON().Outputs as object);
    for (const id of [
      'BucketName',
      'TableName',
      'TasksQueueName',
      'SubmissionsQueueName',
      'TasksDlqName',
      'SubmissionsDlqName',
    ]) {
      expect(outputs).toContain(id);
    }
    t.hasOutput('TasksQueueName', { Value: getAtt(logicalId(stack, stack.tasks.queue), 'QueueName') });
  });
});
