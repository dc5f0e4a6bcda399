import { Duration } from 'aws-cdk-lib';
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  MathExpression,
  Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ICluster } from 'aws-cdk-lib/aws-ecs';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRIC_NAMES } from '../../core/resources.js';

/** Names of the metrics the runtime publishes (CloudWatch embedded metric format). */
export interface RuntimeMetricNames {
  /** Count, one per committed task attempt. @default 'TasksCompleted' */
  readonly tasksCompleted?: string;
  /** Count, one per failed task attempt. @default 'TasksFailed' */
  readonly tasksFailed?: string;
  /** Milliseconds from submission to the end of a job. @default 'JobDuration' */
  readonly jobDuration?: string;
  /** Count, one per speculative backup attempt launched (claimed). @default 'SpeculativeAttempts' */
  readonly speculativeAttempts?: string;
  /** Count, one per backup attempt that committed first. @default 'SpeculativeWins' */
  readonly speculativeWins?: string;
}

export interface MonitoringProps {
  readonly tasksQueue: IQueue;
  readonly tasksDlq: IQueue;
  readonly submissionsQueue: IQueue;
  readonly submissionsDlq: IQueue;
  /** The workers' cluster (Container Insights on) and service name. */
  readonly cluster: ICluster;
  readonly workerServiceName: string;
  /** Tasks queued, in flight or delayed. */
  readonly backlogMetric: IMetric;
  readonly coordinator: IFunction;
  readonly checker: IFunction;
  /** Namespace of the runtime metrics. */
  readonly metricsNamespace: string;
  readonly metricNames?: RuntimeMetricNames;
  /** Notified when an alarm fires. @default none */
  readonly alarmTopic?: ITopic;
  /** @default 'MapReduce-<stack name>' */
  readonly dashboardName?: string;
}

/**
 * The dashboard (queue depths, running workers, tasks completed and failed, also per job
 * step, job durations, speculative backups launched and won, Lambda health) and one alarm per dead-letter queue that fires as soon as
 * it holds a message. Runtime metrics are read with SEARCH, so whatever dimensions the
 * runtime adds are summed.
 */
export class Monitoring extends Construct {
  public readonly dashboard: Dashboard;
  /** One alarm per DLQ: `tasks` and `submissions`. */
  public readonly dlqAlarms: { readonly tasks: Alarm; readonly submissions: Alarm };

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const minute = Duration.minutes(1);
    const names = { ...METRIC_NAMES, ...props.metricNames };

    const dlqAlarm = (alarmId: string, queue: IQueue, what: string) => {
      const alarm = new Alarm(this, alarmId, {
        alarmDescription: `${what} reached the dead-letter queue: inspect and redrive it`,
        metric: queue.metricApproximateNumberOfMessagesVisible({ period: minute, statistic: 'Maximum' }),
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        threshold: 1,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      if (props.alarmTopic) alarm.addAlarmAction(new SnsAction(props.alarmTopic));
      return alarm;
    };
    this.dlqAlarms = {
      tasks: dlqAlarm('TasksDlqNotEmpty', props.tasksDlq, 'A task message'),
      submissions: dlqAlarm('SubmissionsDlqNotEmpty', props.submissionsDlq, 'A job submission'),
    };

    const search = (metricName: string, stat: string, label: string, reduce?: 'SUM' | 'MAX') =>
      new MathExpression({
        expression: `${reduce ? `${reduce}(` : ''}SEARCH('Namespace="${props.metricsNamespace}" MetricName="${metricName}"', '${stat}', 60)${reduce ? ')' : ''}`,
        label,
        period: minute,
      });
    const ecs = (metricName: string, label: string) =>
      new Metric({
        namespace: 'ECS/ContainerInsights',
        metricName,
        dimensionsMap: { ClusterName: props.cluster.clusterName, ServiceName: props.workerServiceName },
        statistic: 'Average',
        period: minute,
        label,
      });
    const depth = (q: IQueue, label: string) =>
      q.metricApproximateNumberOfMessagesVisible({ period: minute, statistic: 'Maximum', label });
    const inFlight = (q: IQueue, label: string) =>
      q.metricApproximateNumberOfMessagesNotVisible({ period: minute, statistic: 'Maximum', label });

    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName,
      defaultInterval: Duration.hours(3),
    });
    const wide = { width: 12, height: 6 };
    this.dashboard.addWidgets(
      new GraphWidget({
        ...wide,
        title: 'Task queue',
        left: [depth(props.tasksQueue, 'Queued'), inFlight(props.tasksQueue, 'In flight'), props.backlogMetric],
      }),
      new GraphWidget({
        ...wide,
        title: 'Workers',
        left: [ecs('RunningTaskCount', 'Running'), ecs('DesiredTaskCount', 'Desired')],
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        ...wide,
        title: 'Tasks completed and failed (per minute)',
        left: [
          search(names.tasksCompleted, 'Sum', 'Completed', 'SUM'),
          search(names.tasksFailed, 'Sum', 'Failed', 'SUM'),
        ],
      }),
      new GraphWidget({
        ...wide,
        title: 'Job duration (ms)',
        left: [
          search(names.jobDuration, 'Average', 'Average', 'MAX'),
          search(names.jobDuration, 'Maximum', 'Max', 'MAX'),
        ],
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        ...wide,
        title: 'Submissions and dead letters',
        left: [
          depth(props.submissionsQueue, 'Submissions queued'),
          depth(props.submissionsDlq, 'Submissions DLQ'),
          depth(props.tasksDlq, 'Tasks DLQ'),
        ],
      }),
      new GraphWidget({
        ...wide,
        title: 'Lambda errors and duration',
        left: [
          props.coordinator.metricErrors({ period: minute, label: 'Coordinator errors' }),
          props.checker.metricErrors({ period: minute, label: 'Checker errors' }),
        ],
        right: [
          props.coordinator.metricDuration({ period: minute, statistic: 'Maximum', label: 'Coordinator max ms' }),
          props.checker.metricDuration({ period: minute, statistic: 'Maximum', label: 'Checker max ms' }),
        ],
      }),
    );
    // One line per job step and task kind ("1 map", "2 reduce", …): the runtime tags task
    // metrics with the step (services/metrics.ts), so a multi-step job's progress reads per step.
    const perStep = (metricName: string) =>
      new MathExpression({
        expression: `SEARCH('{"${props.metricsNamespace}",Step,TaskKind,service} MetricName="${metricName}"', 'Sum', 60)`,
        label: '',
        period: minute,
      });
    this.dashboard.addWidgets(
      new GraphWidget({
        ...wide,
        title: 'Speculative backups (per minute)',
        left: [
          search(names.speculativeAttempts, 'Sum', 'Launched', 'SUM'),
          search(names.speculativeWins, 'Sum', 'Won', 'SUM'),
        ],
      }),
      new GraphWidget({
        ...wide,
        title: 'Tasks completed per job step (per minute)',
        left: [perStep(names.tasksCompleted)],
        right: [perStep(names.tasksFailed)],
        rightYAxis: { label: 'failed', showUnits: false },
        leftYAxis: { label: 'completed', showUnits: false },
      }),
    );
    this.dashboard.addWidgets(
      new AlarmStatusWidget({
        title: 'Dead-letter alarms',
        width: 24,
        height: 3,
        alarms: [this.dlqAlarms.tasks, this.dlqAlarms.submissions],
      }),
    );
  }
}
