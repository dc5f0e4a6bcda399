/**
 * Many conditional writes at the price of few: up to 100 items per TransactWriteItems
 * (DynamoDB's limit). A transaction is all or nothing, so when one item's condition is
 * lost (another writer got there first) the chunk is written again one item at a time,
 * each keeping its own condition, and the items whose condition is lost are skipped.
 *
 *   chunk of 100 ──TransactWrite──▶ ✓ all 100 written
 *                          └──────▶ ✗ one condition lost ──▶ 100 single writes, lost ones skipped
 */
import { TransactWriteCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { forEachLimit } from '../core/concurrency.js';
import type { AwsClients } from './clients.js';
import { isConditionFailure } from './items.js';

/** DynamoDB's most items in one TransactWriteItems. */
export const TRANSACTION_ITEMS = 100;

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/**
 * Write every item (`asTransactItem` for the chunk, `writeOne` for the fallback). Errors
 * other than a lost condition are thrown.
 */
export async function writeConditionalChunks<T>(
  c: AwsClients,
  items: readonly T[],
  asTransactItem: (item: T) => TransactItem,
  writeOne: (item: T) => Promise<unknown>,
): Promise<void> {
  for (let i = 0; i < items.length; i += TRANSACTION_ITEMS) {
    const chunk = items.slice(i, i + TRANSACTION_ITEMS);
    try {
      await c.doc.send(new TransactWriteCommand({ TransactItems: chunk.map(asTransactItem) }));
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      await forEachLimit(chunk, 8, async (item) => {
        try {
          await writeOne(item);
        } catch (e) {
          if (!isConditionFailure(e)) throw e;
        }
      });
    }
  }
}
