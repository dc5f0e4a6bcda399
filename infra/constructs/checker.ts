import { Duration } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Construct } from 'constructs';
import { RuntimeFunction } from './runtime-function.js';

export interface CheckerProps {
  /** Folder holding package.json and the handler. */
  readonly projectRoot: string;
  /** Handler file relative to `projectRoot`. */
  readonly entry: string;
  /** MR_* variables; MR_CHECKER_INTERVAL_MS sets the sweep interval inside an invocation. */
  readonly environment: Record<string, string>;
  /** How often EventBridge starts an invocation. @default 1 minute */
  readonly schedule?: Duration;
  /** The handler sweeps in a loop until close to this limit. @default 60 s */
  readonly timeout?: Duration;
  /** @default 256 */
  readonly memorySize?: number;
}

/**
 * The checker Lambda. EventBridge starts it every minute; each invocation sweeps in a
 * loop every MR_CHECKER_INTERVAL_MS, so a stalled task is noticed within one lease plus
 * one interval instead of one minute. Overlapping invocations are harmless (the
 * handler takes a guard item), so a missed or late schedule is never retried.
 */
export class Checker extends Construct {
  public readonly runtime: RuntimeFunction;
  public readonly rule: Rule;

  constructor(scope: Construct, id: string, props: CheckerProps) {
    super(scope, id);
    this.runtime = new RuntimeFunction(this, 'Runtime', {
      projectRoot: props.projectRoot,
      entry: props.entry,
      description: 'MapReduce checker: reclaims stalled tasks, starts reduces, finishes jobs',
      timeout: props.timeout ?? Duration.seconds(60),
      memorySize: props.memorySize ?? 256,
      environment: props.environment,
    });
    this.rule = new Rule(this, 'Schedule', {
      description: 'Starts the MapReduce checker',
      schedule: Schedule.rate(props.schedule ?? Duration.minutes(1)),
      targets: [new LambdaFunction(this.runtime.function, { retryAttempts: 0, maxEventAge: Duration.minutes(1) })],
    });
  }
}
