/**
 * Which deployment a command talks to: a CDK stack on AWS (`--stack NAME`, names
 * read from its outputs) or a local stack on the emulator (the default).
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import type { Command } from 'commander';
import { type AwsClients, createClients, explainEnvironmentError, LOCAL_ENDPOINT } from '../aws/clients.js';
import { isEndpointUp } from '../aws/emulator.js';
import { EnvironmentError } from '../core/errors.js';
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

export function localEndpoint(o: TargetOptions): string {
  return o.endpoint ?? process.env.AWS_ENDPOINT_URL ?? LOCAL_ENDPOINT;
}

export function localPrefix(o: TargetOptions): string {
  return o.prefix ?? process.env.MR_PREFIX ?? DEFAULT_LOCAL_PREFIX;
}

const OUTPUT_NAMES: Record<string, keyof ResourceNames> = {
  BucketName: 'bucket',
  TableName: 'table',
  TasksQueueName: 'tasksQueue',
  TasksDlqName: 'tasksDlq',
  SubmissionsQueueName: 'submissionsQueue',
  SubmissionsDlqName: 'submissionsDlq',
};

export async function resolveTarget(o: TargetOptions): Promise<Target> {
  if (o.stack) return resolveStack(o.stack);
  const endpoint = localEndpoint(o);
  if (!(await isEndpointUp(endpoint, 1500))) {
    throw new EnvironmentError(
      `No local stack answers on ${endpoint}. Start one with \`mapreduce local up\` (or use \`mapreduce run\`, ` +
        'which starts one for the job), or pass --stack <name> to use a deployed stack on AWS.',
    );
  }
  const clients = createClients({ endpoint });
  const names = localResourceNames(localPrefix(o));
  try {
    await clients.ddb.send(new DescribeTableCommand({ TableName: names.table }));
  } catch (err) {
    if ((err as Error).name === 'ResourceNotFoundException') {
      throw new EnvironmentError(
        `The emulator on ${endpoint} has no local stack named "${localPrefix(o)}". Start it with \`mapreduce local up\`.`,
      );
    }
    throw explainEnvironmentError(err, endpoint);
  }
  return { kind: 'local', clients, names, description: `local stack "${localPrefix(o)}" at ${endpoint}` };
}

async function resolveStack(stack: string): Promise<Target> {
  const clients = createClients({});
  const cfn = new CloudFormationClient({ region: clients.region });
  let outputs: { OutputKey?: string; OutputValue?: string }[];
  try {
    const out = await cfn.send(new DescribeStacksCommand({ StackName: stack }));
    outputs = out.Stacks?.[0]?.Outputs ?? [];
  } catch (err) {
    const explained = explainEnvironmentError(err, undefined);
    if (explained !== err) throw explained;
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
    throw new EnvironmentError(`Stack "${stack}" lacks the outputs ${missing.join(', ')}: was it deployed with this CDK app?`);
  }
  return { kind: 'aws', clients, names: names as ResourceNames, description: `stack ${stack} (${clients.region})` };
}
