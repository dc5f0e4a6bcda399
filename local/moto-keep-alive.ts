/**
 * MOTO_KEEP_ALIVE: the launcher's request handler (local/emulator.ts), which keeps HTTP/1.1
 * connections open between requests, as AWS does.
 *
 * werkzeug's development server answers every request with `Connection: close`: its handler
 * cannot tell where a request body it did not read ends, so it reads whatever follows the
 * answer for 10 ms and closes. Every SDK request to the emulator therefore opened a TCP
 * connection and cost the emulator a new thread: ~2 ms of its CPU per request and ~2 ms of
 * the client's (`node dist/scripts/bench/small-requests.js`, docs/performance.md "Fixed cost
 * of a small job"), for the ~65 requests of a small job, the CLI's and the harness's polls.
 *
 * The handler below is werkzeug's, with the connection kept when it is safe to frame the next
 * request, and closed as before otherwise:
 * - the request body has a Content-Length (not chunked), and what the application left of it
 *   (at most KEEP_ALIVE_MAX_UNREAD bytes) is read before the answer goes out, so the next
 *   request starts exactly where this one ended;
 * - the application did not raise (a failed request is answered and closed, as before);
 * - the client did not ask to close (HTTP/1.0, `Connection: close`).
 * Answers are framed as werkzeug frames them (Content-Length, or chunked with its end chunk;
 * HEAD, 204 and 304 without a body). When the connection is kept, werkzeug's after-answer
 * drain (which would swallow the next request) is skipped; the body was already read. Small
 * answers are sent at once (TCP_NODELAY): with a connection kept, Nagle's algorithm would hold
 * an answer's body behind the client's delayed ACK of its headers.
 *
 * The handler also skips formatting the per-request log line when werkzeug's logger would drop it.
 *
 * Idle connections stay open until the client closes them (the SDK's agents keep them;
 * a process that exits closes its own), each holding a sleeping thread.
 *
 * On by default; `MR_EMULATOR_KEEP_ALIVE=0` in the launcher's environment turns it off (then
 * every answer closes its connection, as werkzeug does; `_QuietHandler` keeps only the log-line
 * saving). It was opt-in for a while (session 11): `mapreduce run` sometimes took ~23 s to exit
 * after its result. The cause was the client's: an upload whose request never ended held its
 * kept socket until the SDK's idle timeout (aws/blob-store.ts putFile, fixed in session 12).
 */

/** The launcher's environment variable that turns keep-alive off ('0'); unset or anything else leaves it on. */
export const EMULATOR_KEEP_ALIVE_ENV = 'MR_EMULATOR_KEEP_ALIVE';

/** A request body left unread by the application beyond this closes the connection instead of being read. */
export const KEEP_ALIVE_MAX_UNREAD = 1024 * 1024;

export const MOTO_KEEP_ALIVE = String.raw`
import logging as _klogging, selectors as _kselectors, threading as _kthreading, types as _ktypes
import werkzeug.serving as _kserving

_kstate = _kthreading.local()  # one handler thread per connection, one request at a time

class _CountedBody:
    """The request body as the application reads it, stopping at Content-Length."""
    def __init__(self, stream, length):
        self._stream, self.left = stream, length
    def _take(self, data):
        self.left -= len(data)
        return data
    def read(self, size=-1):
        if self.left <= 0:
            return b''
        return self._take(self._stream.read(self.left if size is None or size < 0 else min(size, self.left)))
    def readline(self, size=-1):
        if self.left <= 0:
            return b''
        return self._take(self._stream.readline(self.left if size is None or size < 0 else min(size, self.left)))
    def finish(self, most):
        """Read what the application left, up to most bytes; True when the body is all read."""
        while 0 < self.left <= most:
            if not self.read(self.left):
                return False
        return self.left == 0

class _NoDrain:
    def register(self, *args): pass
    def select(self, timeout=None): return []
    def close(self): pass

def _drain_selector():
    return _NoDrain() if getattr(_kstate, 'keep', False) else _kselectors.DefaultSelector()

_kserving.selectors = _ktypes.SimpleNamespace(DefaultSelector=_drain_selector, EVENT_READ=_kselectors.EVENT_READ)

def _quiet_log(handler, code, size):
    # werkzeug formats the line (path, date, colours) before its logger drops it at WARNING
    # (MOTO_QUIET_REQUESTS): ~4 % of the emulator's CPU in a job.
    if _klogging.getLogger('werkzeug').isEnabledFor(_klogging.INFO):
        _kserving.WSGIRequestHandler.log_request(handler, code, size)

class _QuietHandler(_kserving.WSGIRequestHandler):
    """werkzeug's handler (a connection closed after each answer), without the dropped log line."""
    def make_environ(self):
        _kstate.handler = self
        return super().make_environ()

    def log_request(self, code='-', size='-'):
        _quiet_log(self, code, size)

class _KeepAliveHandler(_kserving.WSGIRequestHandler):
    protocol_version = 'HTTP/1.1'
    disable_nagle_algorithm = True

    def make_environ(self):
        environ = super().make_environ()
        _kstate.handler = self
        _kstate.keep = False
        _kstate.failed = False
        self._body = None
        length = environ.get('CONTENT_LENGTH') or '0'
        if not environ.get('wsgi.input_terminated') and length.isdigit():
            self._body = _CountedBody(self.rfile, int(length))
            environ['wsgi.input'] = self._body
        return environ

    def send_header(self, keyword, value):
        if keyword.lower() == 'connection' and value.lower() == 'close' and self._may_keep():
            _kstate.keep = True
            return
        super().send_header(keyword, value)

    def _may_keep(self):
        body = getattr(self, '_body', None)
        return (body is not None and not self.close_connection and not getattr(_kstate, 'failed', True)
                and body.finish(${KEEP_ALIVE_MAX_UNREAD}))

    def log_request(self, code='-', size='-'):
        _quiet_log(self, code, size)

    def run_wsgi(self):
        super().run_wsgi()
        if getattr(_kstate, 'failed', False):
            self.close_connection = True  # an answer cut short may have broken the framing

class _NotedBody:
    """
    The application's answer, noting a failure while werkzeug iterates it. A chunk that is a
    memoryview (a large ranged GET served from the stored bytes, local/moto-s3-patches.ts) is
    written to the connection here, since werkzeug's writer takes only bytes: an empty chunk
    first makes werkzeug send the status and headers (the answer has a Content-Length, so no
    chunked framing), then the view goes to the socket as it is.
    """
    def __init__(self, chunks):
        self._chunks = chunks
    def __iter__(self):
        try:
            for chunk in self._chunks:
                if type(chunk) is memoryview:
                    handler = getattr(_kstate, 'handler', None)
                    if handler is None:
                        yield chunk.tobytes()
                        continue
                    yield b''
                    handler.wfile.write(chunk)
                else:
                    yield chunk
        except BaseException:
            _kstate.failed = True
            raise
    def close(self):
        if hasattr(self._chunks, 'close'):
            self._chunks.close()

def _noting_failures(app):
    """The WSGI application, noting (for the handler above) when it raises."""
    def wrapped(environ, start_response):
        try:
            return _NotedBody(app(environ, start_response))
        except BaseException:
            _kstate.failed = True
            raise
    return wrapped

def _request_handler():
    """The handler class: keep-alive unless the launcher's environment turns it off."""
    import os as _kos
    return _QuietHandler if _kos.environ.get('${EMULATOR_KEEP_ALIVE_ENV}') == '0' else _KeepAliveHandler
`;
