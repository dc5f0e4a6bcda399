/**
 * Python run by the emulator launcher (aws/emulator.ts) before moto serves requests,
 * removing costs in moto 5 that grow with the size of a table or a queue. Kept in its
 * own module so the launcher only has to include it. Profiles: docs/performance.md.
 *
 * MOTO_TRANSACTION_PATCH. moto's TransactWriteItems takes `copy.deepcopy` of every table the transaction
 * touches before it starts, so that a cancelled transaction can put the copy back.
 * The state table holds every job's tasks, so each commit (one transaction) copied
 * thousands of items: a job of 2,000 tasks spent >80 % of the emulator's CPU in
 * `deepcopy` and grew it to gigabytes (profile in docs/performance.md).
 *
 * The patch keeps moto's own transaction code and changes only what is saved for the
 * rollback: a copy of each item the transaction names (or "absent"), taken before it
 * runs, put back in reverse order if it raises. Under the launcher's lock (one
 * DynamoDB request at a time) nothing else writes meanwhile, so restoring those items
 * leaves the table exactly as restoring the whole table would: conditions stay atomic
 * and a cancelled transaction still leaves no trace. Unlike moto's whole-table restore,
 * it can never undo another request's writes.
 */
const MOTO_TRANSACTION_PATCH = String.raw`
import copy as _copy, types as _types
import moto.dynamodb.models as _ddb
from moto.dynamodb.models.dynamo_type import DynamoType as _DT
from moto.dynamodb.models.table import Table as _Table

# moto.dynamodb.models deep-copies whole tables only in transact_write_items; items stay copied.
_ddb.copy = _types.SimpleNamespace(
    deepcopy=lambda x, memo=None: x if isinstance(x, _Table) else _copy.deepcopy(x, memo),
    copy=_copy.copy,
)
_transact = _ddb.DynamoDBBackend.transact_write_items

def _saved_items(backend, transact_items):
    saved = []
    for entry in transact_items[:100]:
        try:
            op = next(iter(entry.values()))
            table = backend.tables[op['TableName']]
            src = op['Item'] if 'Item' in op else op['Key']
            h = _DT(src[table.hash_key_attr])
            r = _DT(src[table.range_key_attr]) if table.range_key_attr else None
            saved.append((table, h, r, _copy.deepcopy(table.get_item(h, r))))
        except Exception:
            pass  # moto rejects this entry itself before writing it
    return saved

def _transact_saving_items(self, transact_items):
    saved = _saved_items(self, transact_items)
    try:
        return _transact(self, transact_items)
    except BaseException:
        for table, h, r, item in reversed(saved):
            if item is None:
                table.delete_item(h, r)
            elif r is None:
                table.items[h] = item
            else:
                table.items[h][r] = item
        raise

_ddb.DynamoDBBackend.transact_write_items = _transact_saving_items
`;

/**
 * moto's SQS looks at every message of a queue on each send, receive, delete and
 * visibility change, and reads the clock through `datetime` for each message it looks
 * at (twice per message for visibility). Worse, each received message checks the retention
 * period through `get_queue_attributes`, which builds the queue's attribute map three
 * times, each build counting the queue's messages three ways. With the 2,000 map-task
 * messages of a 2,000-object job queued at once, sending them took minutes and
 * every receive scanned the queue ~20 times.
 *
 * The patch reads the same clock without `datetime` (time.time(): the same POSIX
 * seconds moto computes from utcnow() minus the epoch) and reads the retention period
 * straight from the queue (the value the attribute map holds). Nothing else changes:
 * visibility, delays, receive counts and redrive work as before.
 */
const MOTO_SQS_PATCH = String.raw`
import time as _time
import moto.sqs.models as _sqs
_sqs_unix_time = _sqs.unix_time
_sqs.unix_time = lambda dt=None: _time.time() if dt is None else _sqs_unix_time(dt)
_sqs.unix_time_millis = lambda dt=None: _sqs.unix_time(dt) * 1000.0

def _retained(self, queue_name, message):
    period = self.get_queue(queue_name).message_retention_period
    return period + message.sent_timestamp / 1000 > _time.time()

_sqs.SQSBackend.is_message_valid_based_on_retention_period = _retained
`;

/**
 * werkzeug logs one line per request at INFO: about a tenth of the emulator's CPU in a
 * job of thousands of tasks. Warnings and errors are still logged.
 */
const MOTO_QUIET_REQUESTS = String.raw`
import logging as _logging
_logging.getLogger('werkzeug').setLevel(_logging.WARNING)
`;

/** Everything the launcher runs before starting moto's server. */
export const MOTO_PATCHES = [MOTO_TRANSACTION_PATCH, MOTO_SQS_PATCH, MOTO_QUIET_REQUESTS].join('\n');
