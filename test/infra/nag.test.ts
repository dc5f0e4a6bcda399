/**
 * cdk-nag's AwsSolutions pack finds nothing unacknowledged (errors or warnings) in the
 * default stack nor in a stack with every option turned on, and every acknowledgment
 * carries a written reason.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MapReduceStackProps } from '../../infra/config.js';
import { type Synthesized, synth, vpcLookupContext } from './synth.js';

const variants: Record<string, MapReduceStackProps> = {
  default: {},
  'every option': {
    useSpot: true,
    natGateways: 0,
    maxWorkers: 50,
    workerArchitecture: 'arm64',
    workerStorageGiB: 100,
    dataBucketNames: ['corp-datalake', 'corp-results'],
    alarmTopicArn: 'arn:aws:sns:us-east-1:123456789012:mapreduce-alerts',
    retainData: false,
  },
  'existing VPC': { existingVpcId: 'vpc-0123456789abcdef0', env: { account: '123456789012', region: 'us-east-1' } },
};

const lookups = vpcLookupContext('123456789012', 'us-east-1', 'vpc-0123456789abcdef0');
const synthesized: Record<string, Synthesized> = {};

beforeAll(() => {
  // With the pack registered, synthesis itself throws on any unacknowledged finding.
  for (const [name, props] of Object.entries(variants)) {
    synthesized[name] = synth(props, { nag: true, stackId: `Nag${Object.keys(synthesized).length}`, context: lookups });
  }
}, 300_000);
afterAll(() => {
  for (const s of Object.values(synthesized)) s.cleanup();
});

function acknowledgments(root: IConstruct): { path: string; id: string; reason: string }[] {
  return root.node
    .findAll()
    .flatMap((c) =>
      c.node.metadata
        .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((m) =>
          Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({ path: c.node.path, id, reason })),
        ),
    );
}

describe.each(Object.keys(variants))('cdk-nag AwsSolutions on the %s stack', (name) => {
  it('reports no unacknowledged error or warning', () => {
    const { stack } = synthesized[name] as Synthesized;
    const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(stack);
    const found = report.violations.map(
      (v) => `${v.severity} ${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
    );
    expect(found.filter((f) => f.startsWith('error'))).toEqual([]);
    expect(found.filter((f) => f.startsWith('warning'))).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('acknowledges findings one by one, never stack-wide, each with a reason', () => {
    const { stack } = synthesized[name] as Synthesized;
    // CDK records acknowledgments of its own (CloudFormation-Validate::...); ours are the AwsSolutions ones.
    const acks = acknowledgments(stack).filter((a) => a.id.includes('AwsSolutions-'));
    expect(acks.length).toBeGreaterThan(0);
    for (const a of acks) {
      expect(a.id).toMatch(/AwsSolutions-[A-Z]+\d+/);
      expect(a.reason.length, `${a.path} ${a.id}`).toBeGreaterThan(60);
      expect(a.path, `${a.id} is acknowledged on the whole stack`).not.toBe(Stack.of(stack).node.path);
    }
  });
});
