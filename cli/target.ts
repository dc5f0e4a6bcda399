/**
 * Which deployment a command talks to: a CDK stack on AWS (`--stack NAME`, names
 * read from its outputs) or a local stack on the emulator (the default).
 * The AWS SDK is imported only when a target is resolved, so `--help` and
 * usage errors stay fast.
 */
import type { Command } from 'commander';
import type { AwsClients } from '../aws/clients.js';
import { EnvironmentError, UsageError } from '../core/errors.js';
import { DEFAULT_LOCAL_PREFIX, localResourceNames, type ResourceNames } from '../core/resources.js';

export interface TargetOptions {
  readonly stack?: string;
  readonly endpoint?: string;
  readonly prefix?: string;
}

export interface Target {
  readonly kind: 'local' | 'aws';
  readonly clients: AwsClients;
  readonly names: ResourceNames;
  /** For messages: "local stack mapreduce-local at http://127.0.0.1:4566" or "stack X". */
  readonly description: string;
}

/** Add --stack/--endpoint/--prefix to a command. */
export function addTargetOptions(cmd: Command): Command {
  return cmd
    .option('--stack <name>', 'use the CDK stack with this name on AWS (credentials from AWS_PROFILE etc.)')
    .option('--endpoint <url>', 'local emulator endpoint (default: AWS_ENDPOINT_URL or http://127.0.0.1:4566)')
    .option('--prefix <name>', `local stack resource prefix (default: MR_PREFIX or ${DEFAULT_LOCAL_PREFIX})`);
}

/** The emulator's default endpoint (LOCAL_ENDPOINT of aws/clients.ts). */
const LOCAL_ENDPOINT = 'http://127.0.0.1:4566';

export function localEndpoint(o: TargetOptions): string {
  return o.endpoint ?? process.env.AWS_ENDPOINT_URL ?? LOCAL_ENDPOINT;
}

export function localPrefix(o: TargetOptions): string {
  const prefix = o.prefix ?? process.env.MR_PREFIX ?? DEFAULT_LOCAL_PREFIX;
  if (!/^[a-z0-9][a-z0-9-]{1,40}$/.test(prefix)) {
    throw new UsageError(`Invalid --prefix "${prefix}": use 2-41 lowercase letters, digits and dashes (e.g. dev-1).`);
  }
  return prefix;
}

/** The flags that select the same target again, for hints such as `mapreduce logs JOB --prefix x`. */
export function targetFlags(o: TargetOptions): string {
  if (o.stack) return ` --stack ${o.stack}`;
  return `${o.prefix ? ` --prefix ${o.prefix}` : ''}${o.endpoint ? ` --endpoint ${o.endpoint}` : ''}`;
}

const OUTPUT_NAMES: Record<string, keyof ResourceNames> = {
  BucketName: 'bucket',
  TableName: 'table',
  TasksQueueName: 'tasksQueue',
  TasksDlqName: 'tasksDlq',
  SubmissionsQueueName: 'submissionsQueue',
  SubmissionsDlqName: 'submissionsDlq',
};

/**
 * The clients of the targets resolved in this process, released when the command ends
 * (runMain). A request left in use (a body not read to its end, a request never ended) keeps
 * its socket referenced on a kept connection (AWS, the local emulator) until the SDK's idle
 * timeout: without the release, a command could finish its work and not exit for up to 30 s.
 */
const resolvedClients = new Set<AwsClients>();

/** Destroy the clients of every target resolved so far, their sockets included. */
export async function releaseTargets(): Promise<void> {
  if (resolvedClients.size === 0) return;
  const { destroyClients } = await import('../aws/clients.js');
  for (const clients of resolvedClients) destroyClients(clients);
  resolvedClients.clear();
}

/** A target whose check may still be in flight: its clients and names are usable at once. */
export interface OpenedTarget {
  readonly target: Target;
  /**
   * Settles when the stack is checked: resolves when it is there, rejects with the reason it
   * is not (the errors of `resolveTarget`). Requests sent before it settles reach an endpoint
   * that answered, but maybe no stack: their failures are for the caller to put after this one.
   */
  readonly checked: Promise<void>;
}

/** The target (see `openTarget`), once its stack is checked. */
export async function resolveTarget(o: TargetOptions): Promise<Target> {
  const { target, checked } = await openTarget(o);
  await checked;
  return target;
}

/**
 * The target, returned as soon as its requests can go out: for a local stack once the
 * endpoint answers, with the stack's own check (a DescribeTable of its table) still in flight
 * in `checked`, so a caller's first requests (the submission checks) go out beside it instead
 * of one round trip later. A deployed stack is read from its outputs first, so it comes checked.
 */
export async function openTarget(o: TargetOptions): Promise<OpenedTarget> {
  if (o.stack) return { target: await resolveStack(o.stack), checked: Promise.resolve() };
  const endpoint = localEndpoint(o);
  const prefix = localPrefix(o);
  const [{ createClients, explainEnvironmentError }, { isEndpointUp }, { DescribeTableCommand }] = await Promise.all([
    import('../aws/clients.js'),
    import('../local/emulator.js'),
    import('@aws-sdk/client-dynamodb'),
  ]);
  // A refused connection answers at once; a busy emulator may take seconds to reply. Nothing
  // else is sent before it answers: the SDK would retry a refused request for seconds.
  if (!(await isEndpointUp(endpoint, 5000))) {
    throw new EnvironmentError(
      `No local stack answers on ${endpoint}. Start one with \`mapreduce local up\` (or use \`mapreduce run\`, ` +
        'which starts one for the job), or pass --stack <name> to use a deployed stack on AWS.',
    );
  }
  const clients = createClients({ endpoint });
  resolvedClients.add(clients);
  const names = localResourceNames(prefix);
  const checked = clients.ddb.send(new DescribeTableCommand({ TableName: names.table })).then(
    () => undefined,
    (err: unknown) => {
      if ((err as Error).name === 'ResourceNotFoundException') {
        throw new EnvironmentError(
          `The emulator on ${endpoint} has no local stack named "${prefix}". Start it with ` +
            `\`mapreduce local up${o.prefix ? ` --prefix ${prefix}` : ''}\` (or check --prefix / MR_PREFIX).`,
        );
      }
      throw explainEnvironmentError(err, endpoint);
    },
  );
  checked.catch(() => {}); // the caller awaits it, maybe after other requests
  return { target: { kind: 'local', clients, names, description: `local stack "${prefix}" at ${endpoint}` }, checked };
}

/** The region from AWS_REGION/AWS_DEFAULT_REGION or the profile's config file (the SDK's own chain). */
async function awsRegion(): Promise<string> {
  const { CloudFormationClient } = await import('@aws-sdk/client-cloudformation');
  const probe = new CloudFormationClient({});
  try {
    return await probe.config.region();
  } catch {
    throw new EnvironmentError(
      'No AWS region configured for --stack. Set AWS_REGION (e.g. `export AWS_REGION=us-east-1`), or set AWS_PROFILE ' +
        'to a profile with a region in ~/.aws/config (see `aws configure`). For the local stack, drop --stack and run ' +
        '`mapreduce local up`.',
    );
  } finally {
    probe.destroy();
  }
}

async function resolveStack(stack: string): Promise<Target> {
  const [{ createClients, explainEnvironmentError }, { CloudFormationClient, DescribeStacksCommand }] = await Promise.all([
    import('../aws/clients.js'),
    import('@aws-sdk/client-cloudformation'),
  ]);
  const clients = createClients({ region: await awsRegion() });
  resolvedClients.add(clients);
  const cfn = new CloudFormationClient({ region: clients.region });
  let outputs: { OutputKey?: string; OutputValue?: string }[];
  try {
    const out = await cfn.send(new DescribeStacksCommand({ StackName: stack }));
    outputs = out.Stacks?.[0]?.Outputs ?? [];
  } catch (err) {
    const explained = explainEnvironmentError(err, undefined);
    if (explained !== err) throw explained;
    if (/does not exist/.test((err as Error).message)) {
      throw new UsageError(
        `No stack "${stack}" in ${clients.region}: check the name (the CDK stack name, see \`cdk list\`) and AWS_REGION.`,
      );
    }
    throw new EnvironmentError(`Cannot read stack "${stack}" in ${clients.region}: ${(err as Error).message}`, {
      cause: err,
    });
  } finally {
    cfn.destroy();
  }
  const names: Partial<Record<keyof ResourceNames, string>> = {};
  for (const o of outputs) {
    const field = o.OutputKey ? OUTPUT_NAMES[o.OutputKey] : undefined;
    if (field && o.OutputValue) names[field] = o.OutputValue;
  }
  const missing = Object.values(OUTPUT_NAMES).filter((f) => !names[f]);
  if (missing.length > 0) {
    throw new EnvironmentError(
      `Stack "${stack}" lacks the outputs ${missing.join(', ')}: was it deployed with this CDK app?`,
    );
  }
  return { kind: 'aws', clients, names: names as ResourceNames, description: `stack ${stack} (${clients.region})` };
}
