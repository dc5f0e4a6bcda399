/**
 * Synthesizes the MapReduce stack for the infra tests, with the feature flags of
 * cdk.json. Bundling the Lambdas (esbuild) is skipped unless asked for: it is what
 * makes a synth slow, and only one test file checks its output.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { MapReduceStackProps } from '../../infra/config.js';
import { MapReduceStack } from '../../infra/mapreduce-stack.js';
import { REPO_ROOT } from '../../infra/paths.js';

export interface Synthesized {
  readonly app: App;
  readonly stack: MapReduceStack;
  readonly template: Template;
  /** Removes the cloud assembly written to a temporary folder. */
  readonly cleanup: () => void;
}

const cdkContext = (): Record<string, unknown> =>
  (JSON.parse(readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;

export interface SynthOptions {
  /** Run esbuild on the Lambda handlers. @default false */
  readonly bundle?: boolean;
  /** @default 'MapReduceTest' */
  readonly stackId?: string;
  /** Register cdk-nag's AwsSolutions pack: synthesis throws on any unacknowledged finding. */
  readonly nag?: boolean;
  /** Extra context, e.g. cached lookup results. */
  readonly context?: Record<string, unknown>;
}

export function synth(props: MapReduceStackProps = {}, opts: SynthOptions = {}): Synthesized {
  const outdir = mkdtempSync(path.join(tmpdir(), 'mapreduce-cdk-'));
  const app = new App({
    outdir,
    context: { ...cdkContext(), ...(opts.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }), ...opts.context },
  });
  if (opts.nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  const stack = new MapReduceStack(app, opts.stackId ?? 'MapReduceTest', props);
  const template = Template.fromStack(stack);
  return { app, stack, template, cleanup: () => rmSync(outdir, { recursive: true, force: true }) };
}

/** A CloudFormation resource of the template, by logical id. */
export interface CfnResourceJson {
  readonly Type: string;
  readonly Properties: Record<string, unknown>;
}

export function resourcesOfType(template: Template, type: string): Record<string, CfnResourceJson> {
  return template.findResources(type) as Record<string, CfnResourceJson>;
}

/** The logical id of an L2 construct's default CFN resource. */
export function logicalId(stack: MapReduceStack, construct: { node: { defaultChild?: unknown } }): string {
  return stack.getLogicalId(construct.node.defaultChild as never);
}

/**
 * A cached `Vpc.fromLookup` answer, so stacks in an existing VPC synthesize offline.
 * Private subnets are `subnet-0a<i>000...`, public ones `subnet-0b<i>000...` (17 hex digits).
 */
export function vpcLookupContext(account: string, region: string, vpcId: string): Record<string, unknown> {
  const hex17 = (kind: string, i: number) => `${kind}${i}`.padEnd(17, '0');
  const subnet = (i: number, type: string) => ({
    subnetId: `subnet-${hex17(type === 'Private' ? '0a' : '0b', i)}`,
    cidr: `10.1.${type === 'Private' ? i : 10 + i}.0/24`,
    availabilityZone: `${region}${'ab'[i]}`,
    routeTableId: `rtb-${hex17(type === 'Private' ? '0c' : '0d', i)}`,
  });
  return {
    [`vpc-provider:account=${account}:filter.vpc-id=${vpcId}:region=${region}:returnAsymmetricSubnets=true`]: {
      vpcId,
      vpcCidrBlock: '10.1.0.0/16',
      ownerAccountId: account,
      availabilityZones: [],
      subnetGroups: [
        { name: 'Private', type: 'Private', subnets: [subnet(0, 'Private'), subnet(1, 'Private')] },
        { name: 'Public', type: 'Public', subnets: [subnet(0, 'Public'), subnet(1, 'Public')] },
      ],
    },
  };
}
