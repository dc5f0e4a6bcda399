/** Every page of a DynamoDB query, for the stores' listings that must see all items. */
import { QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { AwsClients } from './clients.js';

/** The items of every page of `input` (following LastEvaluatedKey), in order. */
export async function queryAll(c: AwsClients, input: Omit<QueryCommandInput, 'ExclusiveStartKey'>): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await c.doc.send(new QueryCommand({ ...input, ExclusiveStartKey: start }));
    for (const it of out.Items ?? []) items.push(it);
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}
