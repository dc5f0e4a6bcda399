/**
 * Synthesizes the MapReduce stack for the infra tests, with the feature flags of
 * cdk.json. Bundling the Lambdas (esbuild) is skipped unless asked for: it is what
 * makes a synth slow, and only one test file checks its output.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
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
  JSON.parse(readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')).context as Record<string, unknown>;

export function synth(props: MapReduceStackProps = {}, opts: { bundle?: boolean; stackId?: string } = {}): Synthesized {
  const outdir = mkdtempSync(path.join(tmpdir(), 'mapreduce-cdk-'));
  const app = new App({
    outdir,
    context: { ...cdkContext(), ...(opts.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }) },
  });
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
