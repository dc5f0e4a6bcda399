#!/usr/bin/env node
/**
 * The CDK app: `npx cdk synth` / `npx cdk deploy` (cdk.json runs this file with tsx).
 *
 * Settings come from context (cdk.json, or `-c maxWorkers=50 -c useSpot=true`); see
 * infra/config.ts and docs/deploy.md. The stack is environment-agnostic unless
 * `existingVpcId` is set: looking a VPC up needs an account and region (from the
 * CLI profile, CDK_DEFAULT_ACCOUNT / CDK_DEFAULT_REGION) and credentials at synth time.
 * `-c nag=true` runs the cdk-nag AwsSolutions checks during synth; each acknowledged finding sits,
 * with its reason, in the construct that creates the resource.
 */
import { App, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { propsFromContext } from './config.js';
import { MapReduceStack } from './mapreduce-stack.js';

const app = new App();
const ctx = (key: string): unknown => app.node.tryGetContext(key);
const props = propsFromContext(ctx);
const stackNameContext = ctx('stackName');
const stackName = typeof stackNameContext === 'string' ? stackNameContext : 'MapReduce';

new MapReduceStack(app, stackName, {
  ...props,
  env: props.existingVpcId
    ? { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION }
    : undefined,
});
Tags.of(app).add('project', 'serverless-mapreduce');
if (String(ctx('nag')) === 'true') Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
