import { Annotations, Aws, CfnOutput, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import { ContainerImage, CpuArchitecture } from 'aws-cdk-lib/aws-ecs';
import { type IRole, ManagedPolicy } from 'aws-cdk-lib/aws-iam';
import { Topic } from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { DEFAULT_TIMINGS, leaseMs, namesToEnv, type Timings, timingsToEnv } from '../core/config.js';
import { JOB_BUCKET, type ResourceNames, STATE_TABLE, SUBMISSIONS_QUEUE, TASKS_QUEUE } from '../core/resources.js';
import { type MapReduceSettings, type MapReduceStackProps, resolveSettings } from './config.js';
import { Checker } from './constructs/checker.js';
import { Coordinator } from './constructs/coordinator.js';
import { JobBucket } from './constructs/job-bucket.js';
import { LogBucket } from './constructs/log-bucket.js';
import { Monitoring } from './constructs/monitoring.js';
import { Network } from './constructs/network.js';
import { QueueWithDlq } from './constructs/queue-with-dlq.js';
import { StateTable } from './constructs/state-table.js';
import { WorkerService } from './constructs/worker-service.js';
import { IMAGE_EXCLUDES, LAMBDA_ENTRIES, REPO_ROOT, WORKER_DOCKERFILE } from './paths.js';
import {
  type AccessTargets,
  acknowledgeObjectAccess,
  CHECKER_ACTIONS,
  COORDINATOR_ACTIONS,
  type RoleActions,
  statementsFor,
  WORKER_ACTIONS,
} from './permissions.js';

/** The longest a stalled task may go unnoticed: one lease plus one checker interval. */
const MAX_DETECTION_MS = 15_000;

/**
 * The whole pipeline in one stack: job bucket, submissions and task queues with their
 * DLQs, the state table (all three from core/resources.ts), the coordinator and
 * checker Lambdas, the Fargate workers, their network, and the dashboard and alarms.
 */
export class MapReduceStack extends Stack {
  public readonly settings: MapReduceSettings;
  public readonly jobBucket: JobBucket;
  public readonly stateTable: StateTable;
  public readonly tasks: QueueWithDlq;
  public readonly submissions: QueueWithDlq;
  public readonly coordinator: Coordinator;
  public readonly checker: Checker;
  public readonly network: Network;
  public readonly workers: WorkerService;
  /** Everything a worker may do; attach it to EC2/EMR instance roles to run workers there. */
  public readonly workerPolicy: ManagedPolicy;
  public readonly monitoring: Monitoring;

  constructor(scope: Construct, id: string, props: MapReduceStackProps = {}) {
    super(scope, id, {
      description:
        'Serverless MapReduce: S3 jobs, SQS tasks, DynamoDB state, Lambda coordinator and checker, Fargate workers',
      ...props,
    });
    const s = resolveSettings(props);
    this.settings = s;
    const root = props.projectRoot ?? REPO_ROOT;
    const dataRemoval = s.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    const logs = new LogBucket(this, 'AccessLogs', { removalPolicy: dataRemoval });
    this.tasks = new QueueWithDlq(this, TASKS_QUEUE.id, { definition: TASKS_QUEUE });
    this.submissions = new QueueWithDlq(this, SUBMISSIONS_QUEUE.id, { definition: SUBMISSIONS_QUEUE });
    this.stateTable = new StateTable(this, STATE_TABLE.id, { definition: STATE_TABLE, removalPolicy: dataRemoval });
    this.jobBucket = new JobBucket(this, JOB_BUCKET.id, {
      definition: JOB_BUCKET,
      submissionsQueue: this.submissions.queue,
      accessLogsBucket: logs.bucket,
      removalPolicy: dataRemoval,
    });

    const names: ResourceNames = {
      bucket: this.jobBucket.bucket.bucketName,
      table: this.stateTable.table.tableName,
      tasksQueue: this.tasks.queue.queueName,
      tasksDlq: this.tasks.deadLetterQueue.queueName,
      submissionsQueue: this.submissions.queue.queueName,
      submissionsDlq: this.submissions.deadLetterQueue.queueName,
    };
    const timings: Timings = { ...DEFAULT_TIMINGS, ...s.timings };
    if (leaseMs(timings) + timings.checkerIntervalMs > MAX_DETECTION_MS) {
      Annotations.of(this).addWarningV2(
        'mapreduce:slowDetection',
        `heartbeatMs x missedHeartbeats + checkerIntervalMs = ${leaseMs(timings) + timings.checkerIntervalMs} ms: ` +
          `stalled tasks may go unnoticed for longer than ${MAX_DETECTION_MS} ms`,
      );
    }
    const environment = {
      ...namesToEnv(names),
      ...timingsToEnv(timings),
      POWERTOOLS_METRICS_NAMESPACE: s.metricsNamespace,
    };
    const targets: AccessTargets = {
      bucketArn: this.jobBucket.bucket.bucketArn,
      tableArn: this.stateTable.table.tableArn,
      indexArns: this.stateTable.indexArns,
      tasksQueueArn: this.tasks.queue.queueArn,
      tasksDlqArn: this.tasks.deadLetterQueue.queueArn,
      dataBucketNames: s.dataBucketNames,
    };
    const grant = (role: IRole, actions: RoleActions) => {
      for (const st of statementsFor(actions, targets)) role.addToPrincipalPolicy(st);
      acknowledgeObjectAccess(role, this.jobBucket.bucket, s.dataBucketNames);
    };

    this.coordinator = new Coordinator(this, 'Coordinator', {
      projectRoot: root,
      entry: LAMBDA_ENTRIES.coordinator,
      submissionsQueue: this.submissions.queue,
      environment: { ...environment, POWERTOOLS_SERVICE_NAME: 'mapreduce-coordinator' },
    });
    grant(this.coordinator.runtime.role, COORDINATOR_ACTIONS);

    this.checker = new Checker(this, 'Checker', {
      projectRoot: root,
      entry: LAMBDA_ENTRIES.checker,
      // The handler sweeps until 8 s before its timeout, for at most 55 s.
      timeout: Duration.seconds(70),
      environment: { ...environment, POWERTOOLS_SERVICE_NAME: 'mapreduce-checker' },
    });
    grant(this.checker.runtime.role, CHECKER_ACTIONS);

    this.network = new Network(this, 'Network', {
      existingVpcId: s.existingVpcId,
      natGateways: s.natGateways,
      maxAzs: s.maxAzs,
      endpoints: s.vpcEndpoints,
      flowLogsBucket: logs.bucket,
    });
    const arm = s.workerArchitecture === 'arm64';
    this.workers = new WorkerService(this, 'Workers', {
      vpc: this.network.vpc,
      subnetType: this.network.workerSubnetType,
      image: ContainerImage.fromAsset(root, {
        file: WORKER_DOCKERFILE,
        exclude: [...IMAGE_EXCLUDES],
        platform: arm ? Platform.LINUX_ARM64 : Platform.LINUX_AMD64,
      }),
      cpuArchitecture: arm ? CpuArchitecture.ARM64 : CpuArchitecture.X86_64,
      tasksQueue: this.tasks.queue,
      maxWorkers: s.maxWorkers,
      cpu: s.workerCpu,
      memoryLimitMiB: s.workerMemoryMiB,
      heapMiB: s.workerHeapMiB,
      ephemeralStorageGiB: s.workerStorageGiB,
      useSpot: s.useSpot,
      onDemandWorkers: s.onDemandWorkers,
      idleMinutesBeforeScaleIn: s.idleMinutesBeforeScaleIn,
      environment: {
        ...environment,
        POWERTOOLS_SERVICE_NAME: 'mapreduce-worker',
        MR_SCRATCH_DIR: '/tmp/mapreduce-worker',
        AWS_REGION: Aws.REGION,
      },
    });
    this.workerPolicy = new ManagedPolicy(this, 'WorkerPolicy', {
      description: 'What a MapReduce worker may do: attach to Fargate task roles or EC2/EMR instance roles',
      statements: statementsFor(WORKER_ACTIONS, targets),
    });
    acknowledgeObjectAccess(this.workerPolicy, this.jobBucket.bucket, s.dataBucketNames);
    this.workers.taskDefinition.taskRole.addManagedPolicy(this.workerPolicy);

    this.monitoring = new Monitoring(this, 'Monitoring', {
      tasksQueue: this.tasks.queue,
      tasksDlq: this.tasks.deadLetterQueue,
      submissionsQueue: this.submissions.queue,
      submissionsDlq: this.submissions.deadLetterQueue,
      cluster: this.workers.cluster,
      workerServiceName: this.workers.service.serviceName,
      backlogMetric: this.workers.backlogMetric,
      coordinator: this.coordinator.runtime.function,
      checker: this.checker.runtime.function,
      metricsNamespace: s.metricsNamespace,
      alarmTopic: s.alarmTopicArn ? Topic.fromTopicArn(this, 'AlarmTopic', s.alarmTopicArn) : undefined,
    });

    const out = (outputId: string, value: string, description: string) =>
      new CfnOutput(this, outputId, { value, description });
    // The CLI reads these ids (`mapreduce submit --stack <name>`): keep them stable.
    out('BucketName', names.bucket, 'Job bucket: manifests, inputs, intermediate data, outputs');
    out('TableName', names.table, 'State table: jobs, tasks, worker heartbeats');
    out('TasksQueueName', names.tasksQueue, 'Task queue read by workers');
    out('SubmissionsQueueName', names.submissionsQueue, 'S3 notifications read by the coordinator');
    out('TasksDlqName', names.tasksDlq, 'Dead letters of the task queue');
    out('SubmissionsDlqName', names.submissionsDlq, 'Dead letters of the submissions queue');
    out(
      'WorkerPolicyArn',
      this.workerPolicy.managedPolicyArn,
      'Attach to an EC2/EMR instance role to run workers there',
    );
    out('ClusterName', this.workers.cluster.clusterName, 'ECS cluster of the workers');
    out('WorkerServiceName', this.workers.service.serviceName, 'ECS service of the workers');
    out('DashboardName', this.monitoring.dashboard.dashboardName, 'CloudWatch dashboard');
  }
}
