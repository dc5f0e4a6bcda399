/**
 * Least privilege: every IAM statement of the stack names its actions, grants them on
 * the stack's own resources, and each runtime role gets exactly the actions it uses.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHECKER_ACTIONS, COORDINATOR_ACTIONS, type RoleActions, WORKER_ACTIONS } from '../../infra/permissions.js';
import { logicalId, resourcesOfType, type Synthesized, synth } from './synth.js';

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}
const list = <T>(x: T | T[]): T[] => (Array.isArray(x) ? x : [x]);

let base: Synthesized;
let withData: Synthesized;

beforeAll(() => {
  base = synth();
  withData = synth({ dataBucketNames: ['corp-datalake'] }, { stackId: 'MapReduceData' });
}, 300_000);
afterAll(() => {
  base?.cleanup();
  withData?.cleanup();
});

/** Every statement in the template: policies, managed policies and inline role policies. */
function allStatements(s: Synthesized): { where: string; st: Statement }[] {
  const out: { where: string; st: Statement }[] = [];
  for (const type of ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy']) {
    for (const [id, r] of Object.entries(resourcesOfType(s.template, type))) {
      for (const st of (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement)
        out.push({ where: id, st });
    }
  }
  for (const [id, r] of Object.entries(resourcesOfType(s.template, 'AWS::IAM::Role'))) {
    for (const p of (r.Properties.Policies as { PolicyDocument: { Statement: Statement[] } }[] | undefined) ?? []) {
      for (const st of p.PolicyDocument.Statement) out.push({ where: id, st });
    }
  }
  return out;
}

/** Statements of the policies attached to a role (inline default policy or managed policies). */
function roleStatements(s: Synthesized, roleId: string): Statement[] {
  const policies = Object.values(resourcesOfType(s.template, 'AWS::IAM::Policy')).filter((p) =>
    (p.Properties.Roles as unknown[]).some((r) => JSON.stringify(r) === JSON.stringify({ Ref: roleId })),
  );
  const role = resourcesOfType(s.template, 'AWS::IAM::Role')[roleId];
  const managed = ((role?.Properties.ManagedPolicyArns as { Ref?: string }[] | undefined) ?? []).map(
    (arn) => resourcesOfType(s.template, 'AWS::IAM::ManagedPolicy')[arn.Ref ?? ''],
  );
  return [...policies, ...managed].flatMap((p) =>
    p ? (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement : [],
  );
}

const actionsOf = (sts: Statement[]) => new Set(sts.flatMap((st) => list(st.Action)));
const declared = (a: RoleActions): string[] => Object.values(a).flat();

describe('IAM statements', () => {
  it('never use a wildcard action, nor Resource "*" except for ecr:GetAuthorizationToken', () => {
    for (const s of [base, withData]) {
      const sts = allStatements(s);
      expect(sts.length).toBeGreaterThan(10);
      for (const { where, st } of sts) {
        for (const a of list(st.Action)) expect(a, `${where}: ${a}`).not.toContain('*');
        if (list(st.Resource).includes('*')) {
          expect(list(st.Action), `${where} grants ${JSON.stringify(st.Action)} on *`).toEqual([
            'ecr:GetAuthorizationToken',
          ]);
        }
      }
    }
  });

  it('only allow (no Deny is needed), and delete objects only under tmp/ of the stack bucket, only the finishers (workers, checker)', () => {
    const { stack } = base;
    const sts = allStatements(base).map((x) => x.st);
    expect(sts.every((st) => st.Effect === 'Allow')).toBe(true);
    const deleting = allStatements(base).filter(({ st }) => list(st.Action).some((a) => /^s3:Delete/.test(a)));
    const bucketArn = { 'Fn::GetAtt': [logicalId(stack, stack.jobBucket.bucket), 'Arn'] };
    const tmpOnly = [['s3:DeleteObject'], { 'Fn::Join': ['', [bucketArn, '/tmp/*']] }];
    expect(deleting.map(({ st }) => [list(st.Action), st.Resource])).toEqual([tmpOnly, tmpOnly]);
    const deletes = (role: { node: { defaultChild?: unknown } }) =>
      roleStatements(base, logicalId(stack, role)).filter((st) => list(st.Action).includes('s3:DeleteObject'));
    expect(deletes(stack.workers.taskDefinition.taskRole)).toHaveLength(1);
    expect(deletes(stack.checker.runtime.role)).toHaveLength(1);
    expect(deletes(stack.coordinator.runtime.role)).toHaveLength(0);
  });

  it('give each runtime role exactly the actions it uses', () => {
    const { stack } = base;
    const role = (r: { node: { defaultChild?: unknown } }) => roleStatements(base, logicalId(stack, r));
    const logs = ['logs:CreateLogStream', 'logs:PutLogEvents'];
    const consume = [
      'sqs:ChangeMessageVisibility',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
      'sqs:ReceiveMessage',
    ];
    const sorted = (xs: Iterable<string>) => [...new Set(xs)].sort();
    expect(sorted(actionsOf(role(stack.coordinator.runtime.role)))).toEqual(
      sorted([...declared(COORDINATOR_ACTIONS), ...logs, ...consume]),
    );
    expect(sorted(actionsOf(role(stack.checker.runtime.role)))).toEqual(
      sorted([...declared(CHECKER_ACTIONS), ...logs]),
    );
    expect(sorted(actionsOf(role(stack.workers.taskDefinition.taskRole)))).toEqual(sorted(declared(WORKER_ACTIONS)));
  });

  it('scope DynamoDB to the table and its named indexes, SQS to the task queue', () => {
    const { stack } = base;
    const tableArn = { 'Fn::GetAtt': [logicalId(stack, stack.stateTable.table), 'Arn'] };
    const tasksArn = { 'Fn::GetAtt': [logicalId(stack, stack.tasks.queue), 'Arn'] };
    const sts = roleStatements(base, logicalId(stack, stack.workers.taskDefinition.taskRole));
    for (const st of sts) {
      const actions = list(st.Action);
      if (actions.some((a) => a.startsWith('sqs:'))) expect(st.Resource).toEqual(tasksArn);
      if (actions.some((a) => a.startsWith('dynamodb:')) && !actions.every((a) => a === 'dynamodb:Query')) {
        expect(st.Resource).toEqual(tableArn);
      }
    }
    // The checker alone reads the task DLQ (to send stranded tasks again), and nothing else with it.
    const dlqArn = { 'Fn::GetAtt': [logicalId(stack, stack.tasks.deadLetterQueue), 'Arn'] };
    const receives = roleStatements(base, logicalId(stack, stack.checker.runtime.role)).filter((st) =>
      list(st.Action).includes('sqs:ReceiveMessage'),
    );
    expect(receives.map((st) => [list(st.Action).sort(), st.Resource])).toEqual([
      [['sqs:DeleteMessage', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage'], dlqArn],
    ]);
    const indexStatement = sts.find((st) => JSON.stringify(st.Resource).includes('/index/'));
    expect(JSON.stringify(indexStatement?.Resource)).toContain('/index/active');
    expect(JSON.stringify(indexStatement?.Resource)).toContain('/index/byType');
    expect(JSON.stringify(indexStatement?.Resource)).not.toContain('/index/*');
  });

  it('attach no AWS managed policy to the runtime roles', () => {
    const { stack } = base;
    for (const r of [
      stack.coordinator.runtime.role,
      stack.checker.runtime.role,
      stack.workers.taskDefinition.taskRole,
    ]) {
      const arns = resourcesOfType(base.template, 'AWS::IAM::Role')[logicalId(stack, r)]?.Properties.ManagedPolicyArns;
      expect(JSON.stringify(arns ?? [])).not.toContain(':iam::aws:policy');
    }
  });

  it('extend object access to dataBucketNames: read for the coordinator, read/write for the others', () => {
    const { stack } = withData;
    const grants = (roleId: string) =>
      roleStatements(withData, roleId)
        .filter((st) => JSON.stringify(st.Resource).includes('corp-datalake'))
        .map((st) => ({ actions: list(st.Action).sort(), resource: JSON.stringify(st.Resource) }));
    const coord = grants(logicalId(stack, stack.coordinator.runtime.role));
    expect(coord.find((g) => g.resource.includes('corp-datalake/*'))?.actions).toEqual(['s3:GetObject']);
    expect(coord.find((g) => g.actions.includes('s3:ListBucket'))).toBeDefined();
    for (const r of [stack.checker.runtime.role, stack.workers.taskDefinition.taskRole]) {
      expect(grants(logicalId(stack, r)).find((g) => g.resource.includes('corp-datalake/*'))?.actions).toEqual([
        's3:GetObject',
        's3:PutObject',
      ]);
    }
  });
});
