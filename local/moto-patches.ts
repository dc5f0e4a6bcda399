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

/**
 * Objects up to this size keep their bytes in the emulator's memory (moto's default is 8 MiB,
 * above which a body goes to a temporary file read back whole on every GET). Larger ones
 * still go to a file: a ranged GET of them reads the whole file (an emulator gap).
 */
export const S3_BODY_IN_MEMORY_BYTES = 1024 ** 3;

/**
 * MOTO_S3_PATCH. moto's S3 cost grew with the size of the object on every request, not with the
 * bytes asked for (profile of PUT / GET / ranged GET / CopyObject of 64 MiB objects in
 * docs/performance.md, "S3 bodies in the emulator"):
 *
 * - Bodies above 8 MiB were spooled to a temporary file, and every GET, ranged GET and
 *   CopyObject read the whole file back (`FakeKey.value`): a ranged GET of 4 KiB of a
 *   64 MiB map output cost ~40 ms of moto CPU. Bodies up to S3_BODY_IN_MEMORY_BYTES now stay in
 *   moto's in-memory buffer (moto's own MOTO_S3_DEFAULT_KEY_BUFFER_SIZE setting, unless the user
 *   set it), and `FakeKey.value` hands out that buffer's bytes without copying them (Python bytes
 *   are immutable, and a later write to the buffer copies before writing). A ranged GET then
 *   copies only its range (moto's own range code slices the value), a whole GET nothing.
 * - CopyObject of a single-part object computed the MD5 of the copy's bytes again for its ETag:
 *   the copy has the same bytes, so it takes the source's ETag (what moto would compute).
 *   Multipart sources keep moto's path (their ETag is not an MD5 of the bytes).
 * - A streamed upload in aws-chunked encoding (what the SDKs send for a stream with a checksum
 *   trailer) was decoded by appending each chunk to a bytes object: quadratic in the number of
 *   chunks. The decoder below returns the same bytes in one pass.
 *
 * Range, Content-Range, Content-Length, ETag, checksum and conditional answers are moto's own;
 * only where the bytes come from changes.
 */
const MOTO_S3_PATCH = String.raw`
import os as _os, io as _io
_os.environ.setdefault('MOTO_S3_DEFAULT_KEY_BUFFER_SIZE', str(${S3_BODY_IN_MEMORY_BYTES}))
import moto.s3.models as _s3m
import moto.s3.responses as _s3r

def _in_memory(buf):
    return not getattr(buf, '_rolled', True) and isinstance(getattr(buf, '_file', None), _io.BytesIO)

def _key_value(self):
    with self.lock:
        buf = self._value_buffer
        if _in_memory(buf):
            return buf._file.getvalue()  # the buffer's own bytes: no copy
        buf.seek(0)
        return buf.read()

_set_key_value = _s3m.FakeKey.value.fset
def _share_key_value(self, new_value):
    buf = self._value_buffer
    if type(new_value) is bytes and len(new_value) <= self._max_buffer_size and _in_memory(buf):
        buf._file = _io.BytesIO(new_value)  # shares the bytes until written to (never, in moto)
        self.contentsize = len(new_value)
    else:
        _set_key_value(self, new_value)

_s3m.FakeKey.value = property(_key_value, _share_key_value)

_s3_copy = _s3m.S3Backend.copy_object
def _copy_keeping_etag(self, src_key, dest_bucket_name, dest_key_name, *args, **kwargs):
    result = _s3_copy(self, src_key, dest_bucket_name, dest_key_name, *args, **kwargs)
    if src_key.multipart is None:
        new_key = self.get_object(dest_bucket_name, dest_key_name)
        if new_key is not None and new_key._etag is None and new_key.multipart is None:
            new_key._etag = src_key.etag.strip('"')
    return result
_s3m.S3Backend.copy_object = _copy_keeping_etag

def _decode_chunked(self, body):
    if not body:
        return b''
    if isinstance(body, (bytes, bytearray)):
        body = _io.BytesIO(body)
    chunks = []
    size = int(body.readline().strip(), 16)
    while size > 0:
        chunks.append(body.read(size))
        body.readline()
        size = int(body.readline().strip(), 16)
    return b''.join(chunks)
_s3r.S3Response._handle_encoded_body = _decode_chunked

import werkzeug.wsgi as _wsgi
_readall = _wsgi.LimitedStream.readall
def _read_body_at_once(self):
    remaining = self.limit - self._pos
    if self._limit_is_max or remaining <= 0:
        return _readall(self)
    parts = []
    while remaining > 0:
        try:
            data = self._stream.read(remaining)  # a buffered socket file: all of it in one call
        except (OSError, ValueError) as e:
            self.on_disconnect(error=e)
            break
        if not data:
            self.on_disconnect()
            break
        parts.append(data)
        self._pos += len(data)
        remaining -= len(data)
    return parts[0] if len(parts) == 1 else b''.join(parts)
_wsgi.LimitedStream.readall = _read_body_at_once
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

/** Everything the launcher runs before starting moto's server. */
export const MOTO_PATCHES = [MOTO_TRANSACTION_PATCH, MOTO_SQS_PATCH, MOTO_S3_PATCH, MOTO_DISPATCH_PATCH, MOTO_QUIET_REQUESTS].join('\n');
