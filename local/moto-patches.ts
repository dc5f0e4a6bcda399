import { MOTO_REQUEST_PATCH } from './moto-request-patches.js';
import { MOTO_S3_PATCH } from './moto-s3-patches.js';

/**
 * Python run by the emulator launcher (aws/emulator.ts) before moto serves requests,
 * removing costs in moto 5 that grow with the size of a table, a queue or an object (S3:
 * local/moto-s3-patches.ts). Kept in its own module so the launcher only has to include it.
 * Profiles: docs/performance.md.
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

/**
 * moto answers every Query by walking the whole table: `Table.all_items()` collects and
 * sorts every item of every hash key (all jobs' tasks, workers, guards), and the query
 * then keeps the ones whose hash key matches. A job's Query of its tasks, or the
 * checker's Query of the sparse `active` index, therefore cost O(table log table) however
 * few items they return: with the 2,048 tasks of a `scale_curve` point an empty Query took
 * ~0.3 s of moto's CPU, all of it under the launcher's DynamoDB lock, which every
 * heartbeat waits behind.
 *
 * The patch hands moto's own query code a narrower `all_items` for the one call: for a
 * table query the items of that hash key only (moto then tests the hash key, sorts by the
 * range key and paginates as before); for an index query every item unsorted (moto sorts
 * the matches by the index's keys and then the table's, a total order, so the input order
 * never mattered). Filtering, projection, limits and pagination are moto's. The instance
 * attribute is set and removed inside the launcher's lock: no other DynamoDB request runs
 * meanwhile.
 */
const MOTO_QUERY_PATCH = String.raw`
from moto.dynamodb.models.table import Table as _QTable
_table_query = _QTable.query

def _query_narrowed(self, hash_key, *args, **kwargs):
    index_name = args[6] if len(args) > 6 else kwargs.get('index_name')
    if index_name or hash_key is None:
        items = [i for h in self.items.values() for i in (h.values() if self.range_key_attr else (h,))]
    elif self.range_key_attr:
        items = list(self.items[hash_key].values()) if hash_key in self.items else []
    else:
        items = [self.items[hash_key]] if hash_key in self.items else []
    self.all_items = lambda: items
    try:
        return _table_query(self, hash_key, *args, **kwargs)
    finally:
        del self.all_items

_QTable.query = _query_narrowed
`;

/**
 * moto 5 turns each response into JSON with a generic serializer that walks the
 * operation's botocore output shape for every value: ~6 ms of CPU for a small DynamoDB
 * item, and ~80 % of the time of a Query returning a few hundred task records
 * (cProfile, `moto/core/serialize.py` `_serialize_type_structure`). For DynamoDB and SQS
 * the result moto builds is already the wire form (attribute values as `{"S": ...}`,
 * numbers as strings), so the patch dumps it with `json.dumps`, keeping only the output
 * shape's top-level members and dropping `None`s, as the serializer does. Anything
 * `json.dumps` cannot take as is (binary attributes as bytes, datetimes in table
 * descriptions) and every error goes through moto's serializer as before. Checked by
 * serializing the same results both ways over the DynamoDB and SQS operations the product
 * uses (Put/Get/Update/Delete with ReturnValues, Query with pagination, projection and
 * COUNT, index queries, transactions, batch reads; send, receive, visibility, delete):
 * the parsed bodies were equal.
 */
const MOTO_JSON_RESPONSE_PATCH = String.raw`
import json as _json
import moto.core.serialize as _ser
_serialize_result = _ser.ResponseSerializer._serialize_result

def _serialize_result_json(self, resp, result):
    model = self.operation_model
    shape = model.output_shape
    if (type(result) is dict and shape is not None and isinstance(self, _ser.BaseJSONSerializer)
            and model.service_model.service_name in ('dynamodb', 'sqs')):
        members = shape.members
        try:
            body = _json.dumps({k: v for k, v in result.items() if v is not None and k in members})
        except (TypeError, ValueError):
            return _serialize_result(self, resp, result)
        resp['body'] = body
        resp['headers']['Content-Type'] = self._get_protocol_specific_content_type()
        return resp
    return _serialize_result(self, resp, result)

_ser.ResponseSerializer._serialize_result = _serialize_result_json
`;

/**
 * moto's dispatcher finds the service of every request by host name: it lists moto's package
 * directory (`os.listdir` plus ~170 `isdir` calls) and then tries its URL patterns, ~1.2 ms of CPU
 * per request, the same for every call a task makes. The answer depends only on the host name,
 * moto's installed modules and its URL patterns, none of which change while it runs: it is
 * remembered per host name (a bounded number of them).
 */
const MOTO_DISPATCH_PATCH = String.raw`
import moto.moto_server.werkzeug_app as _wapp
_backend_by_host = {}
_find_backend = _wapp.DomainDispatcherApplication.get_backend_for_host
def _remembered_backend(self, host):
    if host in _backend_by_host:
        return _backend_by_host[host]
    backend = _find_backend(self, host)
    if len(_backend_by_host) < 256:
        _backend_by_host[host] = backend
    return backend
_wapp.DomainDispatcherApplication.get_backend_for_host = _remembered_backend
`;

/**
 * A projected Query (a reducer's listing of its step's map outputs: 4 attributes of each
 * task) cost moto ~1.6 ms per item, 60 % of it copying what the projection then drops:
 * `Table.query` deep-copies every matching item, then `Item.project` converts each whole
 * item (attempt history, request counts) to plain JSON to pick the named paths. 2,048 map
 * tasks took ~4 s per reducer under load, with the DynamoDB lock held.
 *
 * For a table Query with a projection the patch skips the deep copy (every item it returns
 * is a new Item built by `project`; the filter only reads) and projects from the named
 * top-level attributes only (a path `a.b` or `a[1]` starts at attribute `a`; the others
 * cannot be in the result). Index queries, and queries without a projection, are moto's.
 * The flag is set and cleared inside the launcher's DynamoDB lock.
 */
const MOTO_PROJECTION_PATCH = String.raw`
import copy as _pcopy, types as _ptypes
import moto.dynamodb.models.table as _ptable
from moto.dynamodb.models.dynamo_type import Item as _PItem
_projecting = [False]
_ptable.copy = _ptypes.SimpleNamespace(
    deepcopy=lambda x, memo=None: x if _projecting[0] else _pcopy.deepcopy(x, memo),
    copy=_pcopy.copy,
)
_query_before_projection = _ptable.Table.query

def _query_projected(self, hash_key, range_comparison, range_objs, limit, exclusive_start_key,
                     scan_index_forward, projection_expressions, index_name=None, *args, **kwargs):
    _projecting[0] = bool(projection_expressions) and not index_name
    try:
        return _query_before_projection(self, hash_key, range_comparison, range_objs, limit, exclusive_start_key,
                                        scan_index_forward, projection_expressions, index_name, *args, **kwargs)
    finally:
        _projecting[0] = False

_ptable.Table.query = _query_projected

_project_whole = _PItem.project
def _project_named(self, projection_expressions):
    firsts = [e[0] for e in projection_expressions if e]
    named = {k: v for k, v in self.attrs.items() if any(f == k or f.startswith(k + '[') for f in firsts)}
    part = _PItem.__new__(_PItem)
    part.hash_key, part.range_key, part.attrs = self.hash_key, self.range_key, named
    return _project_whole(part, projection_expressions)

_PItem.project = _project_named
`;

/** Everything the launcher runs before starting moto's server. */
export const MOTO_PATCHES = [
  MOTO_TRANSACTION_PATCH,
  MOTO_SQS_PATCH,
  MOTO_QUERY_PATCH,
  MOTO_PROJECTION_PATCH,
  MOTO_JSON_RESPONSE_PATCH,
  MOTO_S3_PATCH,
  MOTO_DISPATCH_PATCH,
  MOTO_REQUEST_PATCH,
  MOTO_QUIET_REQUESTS,
].join('\n');
