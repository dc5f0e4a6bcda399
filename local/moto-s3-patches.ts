/**
 * The launcher's patches of moto's S3 (run with the others in local/moto-patches.ts before
 * moto serves requests): costs that grew with the size of an object on every request.
 * Profiles: docs/performance.md, "S3 bodies in the emulator".
 */

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
 * - The ETag (MD5) of a stored body was hashed from 16 MiB copies read out of its buffer: it is
 *   hashed from the buffer's bytes at once (a PUT of 64 MiB: ~20 ms less of the ~140 ms it cost,
 *   of which MD5 itself is ~90 ms; session 17 in docs/performance.md). Same MD5, same answer.
 * - CopyObject of a single-part object computed the MD5 of the copy's bytes again for its ETag:
 *   the copy has the same bytes, so it takes the source's ETag (what moto would compute).
 *   Multipart sources keep moto's path (their ETag is not an MD5 of the bytes).
 * - A streamed upload in aws-chunked encoding (what the SDKs send for a stream with a checksum
 *   trailer) was decoded by appending each chunk to a bytes object: quadratic in the number of
 *   chunks. The decoder below returns the same bytes in one pass.
 *
 * - A ranged GET copied its range out of the stored bytes (moto slices the value): ~17 ms of CPU
 *   per 64 MiB of a reducer's slices, ~0.27 CPU-s per 1 GiB TeraSort (session 17). A range of at
 *   least RANGE_VIEW_MIN_BYTES is answered as a view of the stored bytes, which the launcher's
 *   handler (local/moto-keep-alive.ts, `_NotedBody`) writes to the socket as it is; werkzeug's
 *   own writer takes only bytes. Headers are moto's, computed on the view exactly as on the copy.
 *
 * Range, Content-Range, Content-Length, ETag, checksum and conditional answers are moto's own;
 * only where the bytes come from changes.
 */
/** A ranged GET answer at least this long is sent from the stored bytes without a copy (smaller ones: a copy is cheaper than a second socket write). */
export const RANGE_VIEW_MIN_BYTES = 256 * 1024;

export const MOTO_S3_PATCH = String.raw`
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

_moto_etag = _s3m.FakeKey.etag.fget
def _etag_of_shared_bytes(self):
    if self._etag is None and _in_memory(self._value_buffer):
        # moto's own MD5, of the buffer's bytes at once instead of 16 MiB copies read out of it
        self._etag = _s3m.md5_hash(self._value_buffer._file.getvalue()).hexdigest()
    return _moto_etag(self)
_s3m.FakeKey.etag = property(_etag_of_shared_bytes)

_s3_copy = _s3m.S3Backend.copy_object
def _copy_keeping_etag(self, src_key, dest_bucket_name, dest_key_name, *args, **kwargs):
    result = _s3_copy(self, src_key, dest_bucket_name, dest_key_name, *args, **kwargs)
    if src_key.multipart is None:
        new_key = self.get_object(dest_bucket_name, dest_key_name)
        if new_key is not None and new_key._etag is None and new_key.multipart is None:
            new_key._etag = src_key.etag.strip('"')
    return result
_s3m.S3Backend.copy_object = _copy_keeping_etag

_handle_range = _s3r.S3Response._handle_range_header
def _range_as_view(self, request, response_headers, response_content):
    if request.method == 'HEAD' or type(response_content) is not bytes or len(response_content) < ${RANGE_VIEW_MIN_BYTES}:
        return _handle_range(self, request, response_headers, response_content)
    # moto's own range logic on a view: its slice is a view too, its headers the same numbers
    status, headers, content = _handle_range(self, request, response_headers, memoryview(response_content))
    if type(content) is memoryview:
        if content.nbytes == len(response_content):
            content = response_content  # the whole object: the stored bytes themselves
        elif content.nbytes >= ${RANGE_VIEW_MIN_BYTES}:
            content = [content]  # one view, written to the socket by the launcher's handler
        else:
            content = content.tobytes()
    return status, headers, content
_s3r.S3Response._handle_range_header = _range_as_view

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

