import type { RemovalPolicy } from 'aws-cdk-lib';
import {
  type Attribute,
  AttributeType,
  BillingMode,
  ProjectionType,
  Table,
  TableEncryption,
} from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import type { KeyAttribute, TableDefinition } from '../../core/resources.js';

export interface StateTableProps {
  /** The shared definition (core/resources.ts): keys, indexes and TTL attribute. */
  readonly definition: TableDefinition;
  /** What happens to the table when it leaves the stack. */
  readonly removalPolicy: RemovalPolicy;
}

const attr = (k: KeyAttribute): Attribute => ({
  name: k.name,
  type: k.type === 'S' ? AttributeType.STRING : AttributeType.NUMBER,
});

const keys = (pk: KeyAttribute, sk?: KeyAttribute): { partitionKey: Attribute; sortKey?: Attribute } => ({
  partitionKey: attr(pk),
  ...(sk ? { sortKey: attr(sk) } : {}),
});

/**
 * The DynamoDB table of a `TableDefinition`, the same one `tableInput` (local/bootstrap.ts)
 * creates locally: on-demand billing, encryption at rest, point-in-time recovery and
 * the TTL attribute. Every index projects all attributes.
 */
export class StateTable extends Construct {
  public readonly table: Table;
  /** ARNs of the table's global secondary indexes, one per index (no wildcard). */
  public readonly indexArns: readonly string[];

  constructor(scope: Construct, id: string, props: StateTableProps) {
    super(scope, id);
    const def = props.definition;
    this.table = new Table(this, 'Table', {
      ...keys(def.partitionKey, def.sortKey),
      billingMode: BillingMode.PAY_PER_REQUEST,
      encryption: TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: def.timeToLiveAttribute,
      removalPolicy: props.removalPolicy,
    });
    for (const g of def.globalSecondaryIndexes) {
      this.table.addGlobalSecondaryIndex({
        indexName: g.indexName,
        ...keys(g.partitionKey, g.sortKey),
        projectionType: g.projection === 'ALL' ? ProjectionType.ALL : ProjectionType.KEYS_ONLY,
      });
    }
    this.indexArns = def.globalSecondaryIndexes.map((g) => `${this.table.tableArn}/index/${g.indexName}`);
  }
}
