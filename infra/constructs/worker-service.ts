import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import {
  AdjustmentType,
  MetricAggregationType,
  type ScalableTarget,
  type ScalingInterval,
  StepScalingAction,
} from 'aws-cdk-lib/aws-applicationautoscaling';
import {
  Alarm,
  ComparisonOperator,
  type IMetric,
  MathExpression,
  type Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { ApplicationScalingAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { type IVpc, SecurityGroup, type SubnetType } from 'aws-cdk-lib/aws-ec2';
import {
  type CapacityProviderStrategy,
  Cluster,
  type ContainerDefinition,
  type ContainerImage,
  ContainerInsights,
  CpuArchitecture,
  FargateService,
  FargateTaskDefinition,
  LinuxParameters,
  LogDrivers,
  OperatingSystemFamily,
  type ScalableTaskCount,
} from 'aws-cdk-lib/aws-ecs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { workerSettingsFromEnv } from '../../core/config.js';
import { heapNodeArgs, WORKER_HEAP_ENV, WORKER_MEMORY_ENV, workerHeapMiB } from '../../core/worker-heap.js';

export interface WorkerServiceProps {
  readonly vpc: IVpc;
  /** Subnets the tasks run in. */
  readonly subnetType: SubnetType;
  /** The worker image (built from worker/Dockerfile by the stack). */
  readonly image: ContainerImage;
  /** The queue whose backlog drives the number of workers. */
  readonly tasksQueue: IQueue;
  /** Most tasks running at once; the least is always 0. */
  readonly maxWorkers: number;
  /** Container environment: resource names and timings. */
  readonly environment: Record<string, string>;
  /** @default 1024 */
  readonly cpu?: number;
  /** @default 2048 */
  readonly memoryLimitMiB?: number;
  /**
   * V8 heap limit of the worker process, MiB (`--max-old-space-size` in the container
   * command). @default half the memory, at least twice the sort buffer + 96 (core/worker-heap.ts)
   */
  readonly heapMiB?: number;
  /** Ephemeral storage for sort spills, GiB. @default 20 */
  readonly ephemeralStorageGiB?: number;
  /** Must match the image's architecture. @default CpuArchitecture.X86_64 */
  readonly cpuArchitecture?: CpuArchitecture;
  /** Place tasks beyond `onDemandWorkers` on Fargate Spot. @default false */
  readonly useSpot?: boolean;
  /** With `useSpot`: how many tasks are placed on on-demand Fargate first. @default 1 */
  readonly onDemandWorkers?: number;
  /** Minutes with an empty backlog before all workers stop. @default 5 */
  readonly idleMinutesBeforeScaleIn?: number;
  /** Time a worker gets after SIGTERM to release its task (Fargate allows at most 120 s). @default 60 s */
  readonly stopTimeout?: Duration;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
}

/**
 * Step levels for the number of workers: a backlog of b tasks gets the smallest power
 * of two that is at least b, capped at `maxWorkers`. The metric counts tasks in flight,
 * so there are never fewer workers than unfinished tasks (up to the cap). When the
 * level drops, ECS chooses which workers stop; a stopped worker releases its task on
 * SIGTERM and another one runs it.
 */
export function backlogScalingSteps(maxWorkers: number): ScalingInterval[] {
  // Step scaling needs two intervals: a single worker gets [1, 2) and [2, inf), both 1.
  if (maxWorkers <= 1)
    return [
      { lower: 1, upper: 2, change: 1 },
      { lower: 2, change: 1 },
    ];
  const steps: ScalingInterval[] = [];
  let lower = 1;
  for (let level = 1; level < maxWorkers; level *= 2) {
    steps.push({ lower, change: level });
    lower = level + 1;
  }
  steps.push({ lower, change: maxWorkers });
  return steps;
}

/**
 * Where worker tasks go: all on-demand, or the first `onDemand` on on-demand Fargate (a
 * base with weight 0) and every further one on Fargate Spot.
 */
export function capacityStrategy(useSpot: boolean, onDemand: number): CapacityProviderStrategy[] {
  if (!useSpot) return [{ capacityProvider: 'FARGATE', weight: 1 }];
  const spot: CapacityProviderStrategy = { capacityProvider: 'FARGATE_SPOT', weight: 1 };
  return onDemand > 0 ? [{ capacityProvider: 'FARGATE', base: onDemand, weight: 0 }, spot] : [spot];
}

/**
 * Worker tasks on ECS Fargate that scale with the task queue's backlog, from zero to
 * `maxWorkers`. The backlog is visible + in-flight + delayed messages, so tasks being
 * processed keep their workers; it scales out within a minute of tasks arriving and
 * in to zero after `idleMinutesBeforeScaleIn` minutes with nothing to do. Tasks run in
 * private subnets, with no inbound access, optionally on Fargate Spot above an on-demand floor.
 */
export class WorkerService extends Construct {
  public readonly cluster: Cluster;
  public readonly taskDefinition: FargateTaskDefinition;
  public readonly container: ContainerDefinition;
  public readonly service: FargateService;
  public readonly securityGroup: SecurityGroup;
  public readonly logGroup: LogGroup;
  public readonly scaling: ScalableTaskCount;
  /** Tasks queued, in flight or delayed: the metric the service scales on. */
  public readonly backlogMetric: IMetric;
  /** In alarm after `idleMinutesBeforeScaleIn` minutes with no backlog; it stops every worker. */
  public readonly idleAlarm: Alarm;

  constructor(scope: Construct, id: string, props: WorkerServiceProps) {
    super(scope, id);
    this.cluster = new Cluster(this, 'Cluster', {
      vpc: props.vpc,
      containerInsightsV2: ContainerInsights.ENABLED,
      enableFargateCapacityProviders: true,
    });
    const memoryMiB = props.memoryLimitMiB ?? 2048;
    const heapMiB = workerHeapMiB({
      memoryMiB,
      sortBufferBytes: workerSettingsFromEnv(props.environment).sortBufferBytes,
      heapMiB: props.heapMiB,
    });
    this.taskDefinition = new FargateTaskDefinition(this, 'Task', {
      cpu: props.cpu ?? 1024,
      memoryLimitMiB: memoryMiB,
      ...(props.ephemeralStorageGiB && props.ephemeralStorageGiB > 20
        ? { ephemeralStorageGiB: props.ephemeralStorageGiB }
        : {}),
      runtimePlatform: {
        cpuArchitecture: props.cpuArchitecture ?? CpuArchitecture.X86_64,
        operatingSystemFamily: OperatingSystemFamily.LINUX,
      },
    });
    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.container = this.taskDefinition.addContainer('worker', {
      image: props.image,
      essential: true,
      // The heap limit as a node argument, not NODE_OPTIONS: job executables that are node scripts inherit the environment.
      // --supervise: a worker that exits to be recycled (core/worker-recycle.ts) is replaced in
      // this container in ~0.3 s; without it the exit would stop the Fargate task (worker/supervisor.ts).
      command: ['node', ...heapNodeArgs(heapMiB), 'bin/mapreduce.js', 'worker', '--supervise'],
      environment: { ...props.environment, [WORKER_MEMORY_ENV]: String(memoryMiB), [WORKER_HEAP_ENV]: String(heapMiB) },
      logging: LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: 'worker' }),
      // An init process reaps the streaming executables' orphans and forwards SIGTERM (to the supervisor, which passes it on).
      linuxParameters: new LinuxParameters(this, 'Linux', { initProcessEnabled: true }),
      stopTimeout: props.stopTimeout ?? Duration.seconds(60),
    });
    Validations.of(this.taskDefinition.obtainExecutionRole()).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'ecr:GetAuthorizationToken, needed to pull the worker image, supports no resource-level permissions; the ' +
        'other ECR and Logs actions of this role are scoped to the image repository and the log group.',
    });
    Validations.of(this.taskDefinition).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason:
        'The environment holds only resource names (bucket, table, queues) and timing settings, no secrets; ' +
        'the worker reads its whole configuration from it, also on EC2/EMR hosts.',
    });
    this.securityGroup = new SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'MapReduce workers: no inbound traffic; outbound to AWS endpoints and what job executables call',
      allowAllOutbound: true,
    });
    this.service = new FargateService(this, 'Service', {
      cluster: this.cluster,
      taskDefinition: this.taskDefinition,
      desiredCount: 0,
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { enable: true, rollback: true },
      vpcSubnets: { subnetType: props.subnetType },
      securityGroups: [this.securityGroup],
      assignPublicIp: false,
      capacityProviderStrategies: capacityStrategy(props.useSpot ?? false, props.onDemandWorkers ?? 1),
    });

    const period = Duration.minutes(1);
    const stat = (m: Metric) => m.with({ statistic: 'Maximum', period });
    const q = props.tasksQueue;
    this.backlogMetric = new MathExpression({
      expression: 'visible + inFlight + delayed',
      usingMetrics: {
        visible: stat(q.metricApproximateNumberOfMessagesVisible()),
        inFlight: stat(q.metricApproximateNumberOfMessagesNotVisible()),
        delayed: stat(q.metric('ApproximateNumberOfMessagesDelayed')),
      },
      label: 'Task backlog',
      period,
    });

    this.scaling = this.service.autoScaleTaskCount({ minCapacity: 0, maxCapacity: props.maxWorkers });
    this.scaling.scaleOnMetric('ScaleOutOnBacklog', {
      metric: this.backlogMetric,
      scalingSteps: backlogScalingSteps(props.maxWorkers),
      adjustmentType: AdjustmentType.EXACT_CAPACITY,
      metricAggregationType: MetricAggregationType.MAXIMUM,
      evaluationPeriods: 1,
      cooldown: period,
    });
    // Scale-in waits for several idle minutes (a run of jobs keeps its workers), and an
    // absent metric counts as idle: SQS stops publishing for a queue left unused.
    const target = this.scaling.node.findChild('Target') as ScalableTarget;
    const stopAll = new StepScalingAction(this, 'ScaleInWhenIdle', {
      scalingTarget: target,
      adjustmentType: AdjustmentType.EXACT_CAPACITY,
      metricAggregationType: MetricAggregationType.MAXIMUM,
      cooldown: period,
    });
    stopAll.addAdjustment({ upperBound: 0, adjustment: 0 });
    this.idleAlarm = new Alarm(this, 'IdleAlarm', {
      alarmDescription: 'No MapReduce task queued or running: scale the workers to zero',
      metric: this.backlogMetric,
      comparisonOperator: ComparisonOperator.LESS_THAN_OR_EQUAL_TO_THRESHOLD,
      threshold: 0,
      evaluationPeriods: props.idleMinutesBeforeScaleIn ?? 5,
      treatMissingData: TreatMissingData.BREACHING,
    });
    this.idleAlarm.addAlarmAction(new ApplicationScalingAction(stopAll));
  }
}
