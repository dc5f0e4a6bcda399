/**
 * Settings: context parsing, validation, the scaling steps, and what the options
 * change in the template (Spot, sizes, timings, NAT-free network, existing VPC).
 */
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, propsFromContext, resolveSettings } from '../../infra/config.js';
import { backlogScalingSteps, capacityStrategy } from '../../infra/constructs/worker-service.js';
import { resourcesOfType, type Synthesized, synth, vpcLookupContext } from './synth.js';

describe('context and defaults', () => {
  it('places workers on Spot above an on-demand floor, or all on-demand', () => {
    expect(capacityStrategy(true, 1)).toEqual([
      { capacityProvider: 'FARGATE', base: 1, weight: 0 },
      { capacityProvider: 'FARGATE_SPOT', weight: 1 },
    ]);
    expect(capacityStrategy(true, 0)).toEqual([{ capacityProvider: 'FARGATE_SPOT', weight: 1 }]);
    expect(capacityStrategy(false, 3)).toEqual([{ capacityProvider: 'FARGATE', weight: 1 }]);
    expect(() => resolveSettings({ onDemandWorkers: -1 })).toThrow(/onDemandWorkers/);
  });

  it('parses -c key=value strings into typed props', () => {
    const ctx: Record<string, unknown> = {
      maxWorkers: '50',
      useSpot: 'true',
      vpcEndpoints: 'false',
      dataBucketNames: 'corp-a, corp-b',
      heartbeatMs: '1000',
      missedHeartbeats: 4,
      existingVpcId: 'vpc-0abc',
      workerArchitecture: 'arm64',
    };
    const props = propsFromContext((k) => ctx[k]);
    expect(props).toMatchObject({
      maxWorkers: 50,
      useSpot: true,
      vpcEndpoints: false,
      dataBucketNames: ['corp-a', 'corp-b'],
      existingVpcId: 'vpc-0abc',
      workerArchitecture: 'arm64',
      timings: { heartbeatMs: 1000, missedHeartbeats: 4 },
    });
    expect(resolveSettings(props).timings.maxAttempts).toBe(DEFAULT_SETTINGS.timings.maxAttempts);
  });

  it('defaults to the runtime timings of core/config.ts and a small, cheap deployment', () => {
    expect(resolveSettings(propsFromContext(() => undefined))).toEqual(DEFAULT_SETTINGS);
    expect(DEFAULT_SETTINGS).toMatchObject({
      useSpot: true,
      onDemandWorkers: 1,
      natGateways: 1,
      maxWorkers: 10,
      retainData: true,
    });
    expect(DEFAULT_SETTINGS.timings).toEqual({
      heartbeatMs: 2000,
      missedHeartbeats: 5,
      maxAttempts: 4,
      taskTimeoutMs: 600_000,
      checkerIntervalMs: 3000,
    });
  });

  it('rejects values CloudFormation would only reject at deploy time', () => {
    expect(() => propsFromContext((k) => (k === 'useSpot' ? 'yes' : undefined))).toThrow(/useSpot/);
    expect(() => propsFromContext((k) => (k === 'maxWorkers' ? 'many' : undefined))).toThrow(/maxWorkers/);
    expect(() => resolveSettings({ maxWorkers: 0 })).toThrow(/maxWorkers/);
    expect(() => resolveSettings({ workerStorageGiB: 500 })).toThrow(/workerStorageGiB/);
    expect(() => resolveSettings({ workerArchitecture: 'sparc' as never })).toThrow(/workerArchitecture/);
    expect(() => resolveSettings({ dataBucketNames: ['Not_A_Bucket'] })).toThrow(/dataBucketNames/);
    expect(() => resolveSettings({ timings: { heartbeatMs: 0 } })).toThrow(/heartbeatMs/);
  });
});

describe('backlogScalingSteps', () => {
  it.each([1, 2, 3, 10, 50, 1000])('covers every backlog with at least as many workers, up to %i', (max) => {
    const steps = backlogScalingSteps(max);
    expect(steps.length).toBeGreaterThanOrEqual(2);
    expect(steps[0]?.lower).toBe(1);
    expect(steps.at(-1)?.change).toBe(max);
    expect(steps.at(-1)?.upper).toBeUndefined();
    for (let i = 1; i < steps.length; i++) {
      const prev = steps[i - 1];
      const cur = steps[i];
      expect(cur?.change).toBeGreaterThanOrEqual(prev?.change ?? 0);
      // The band [prev.lower, cur.lower) gets prev.change workers: enough for its largest backlog.
      expect(prev?.change).toBeGreaterThanOrEqual(Math.min(max, (cur?.lower ?? 0) - 1));
    }
    expect(steps.length).toBeLessThanOrEqual(Math.ceil(Math.log2(max)) + 2);
  });
});

describe('options in the template', () => {
  let custom: Synthesized;
  let existing: Synthesized;
  beforeAll(() => {
    custom = synth(
      {
        maxWorkers: 50,
        workerCpu: 2048,
        workerMemoryMiB: 4096,
        workerHeapMiB: 3000,
        workerStorageGiB: 100,
        workerArchitecture: 'arm64',
        useSpot: true,
        onDemandWorkers: 0,
        idleMinutesBeforeScaleIn: 2,
        natGateways: 0,
        retainData: false,
        timings: { heartbeatMs: 1000, missedHeartbeats: 4, checkerIntervalMs: 2000 },
      },
      { stackId: 'Custom' },
    );
    const env = { account: '123456789012', region: 'eu-west-1' };
    existing = synth(
      { existingVpcId: 'vpc-0123456789abcdef0', vpcEndpoints: false, env, timings: { heartbeatMs: 5000 } },
      { stackId: 'Existing', context: vpcLookupContext(env.account, env.region, 'vpc-0123456789abcdef0') },
    );
  }, 300_000);
  afterAll(() => {
    custom?.cleanup();
    existing?.cleanup();
  });

  it('sizes, places and scales the workers as asked', () => {
    const t = custom.template;
    t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 0, MaxCapacity: 50 });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ComparisonOperator: 'LessThanOrEqualToThreshold',
      EvaluationPeriods: 2,
    });
    t.hasResourceProperties('AWS::ECS::Service', {
      CapacityProviderStrategy: [{ CapacityProvider: 'FARGATE_SPOT', Weight: 1 }],
    });
    t.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Cpu: '2048',
      Memory: '4096',
      EphemeralStorage: { SizeInGiB: 100 },
      RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
      ContainerDefinitions: [
        Match.objectLike({
          Environment: Match.arrayWith([
            { Name: 'MR_HEARTBEAT_MS', Value: '1000' },
            { Name: 'MR_MISSED_HEARTBEATS', Value: '4' },
          ]),
          Command: ['node', '--max-old-space-size=3000', Match.stringLikeRegexp('^--heap-growing-percent='), '--expose-gc', 'bin/mapreduce.js', 'worker', '--supervise'],
        }),
      ],
    });
    for (const fn of Object.values(resourcesOfType(t, 'AWS::Lambda::Function'))) {
      const vars = (fn.Properties.Environment as { Variables?: Record<string, string> } | undefined)?.Variables;
      if (vars?.MR_BUCKET) expect(vars).toMatchObject({ MR_HEARTBEAT_MS: '1000', MR_CHECKER_INTERVAL_MS: '2000' });
    }
    t.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete' });
  });

  it('without NAT, isolates the subnets and adds the ECR and Logs endpoints Fargate needs', () => {
    const t = custom.template;
    t.resourceCountIs('AWS::EC2::NatGateway', 0);
    t.resourceCountIs('AWS::EC2::InternetGateway', 0);
    const services = Object.values(resourcesOfType(t, 'AWS::EC2::VPCEndpoint')).map((e) =>
      JSON.stringify(e.Properties.ServiceName),
    );
    for (const svc of ['.s3', '.dynamodb', '.sqs', '.ecr.api', '.ecr.dkr', '.logs']) {
      expect(
        services.some((x) => x.includes(`${svc}"`)),
        svc,
      ).toBe(true);
    }
  });

  it('deploys into an existing VPC without creating one, and warns about slow stall detection', () => {
    const t = existing.template;
    t.resourceCountIs('AWS::EC2::VPC', 0);
    t.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
    t.hasResourceProperties('AWS::ECS::Service', {
      NetworkConfiguration: {
        AwsvpcConfiguration: Match.objectLike({ Subnets: ['subnet-0a000000000000000', 'subnet-0a100000000000000'] }),
      },
    });
    Annotations.fromStack(existing.stack).hasWarning('*', Match.stringLikeRegexp('stalled tasks may go unnoticed'));
  });
});
