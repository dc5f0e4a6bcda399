/**
 * MOTO_REQUEST_PATCH: costs the emulator paid on every request, whatever it asked (run with the
 * launcher's other patches, local/moto-patches.ts). A small job makes ~65 requests and a
 * harness or a CLI polls between them; after keeping connections open (local/moto-keep-alive.ts)
 * a request still cost ~1-2 ms of the emulator's CPU, of which these took about a fifth
 * (py-spy of `node dist/scripts/bench/small-requests.js`, docs/performance.md "Fixed cost of a
 * small job"):
 *
 * - moto dispatches each action by listing the handler class's functions with
 *   `inspect.getmembers` (`method_names_from_class`): 30-190 µs per request (DynamoDB's
 *   handler has 76, S3's 134). The classes do not change while the server runs (the launcher's
 *   patches are applied before it starts): the list is kept per class.
 * - Python's HTTP server parses each request's header block with the e-mail parser (the
 *   standard library's `http.client.parse_headers`): ~40 µs for an SDK request's dozen headers.
 *   A block of plain `Name: value` lines (a name of visible characters, no folded lines, every
 *   line ended) is read into the same message class directly, as the e-mail parser would store
 *   it (value without leading blanks and without its line end); any other block goes to the
 *   e-mail parser as before. Compared with it on SDK header blocks, duplicates, empty and
 *   non-ASCII values, LF-only lines, and on folded, nameless, unended and malformed lines
 *   (which take the old path): same items, payload and defects.
 * - moto's Flask apps run in debug mode, where Flask gives every request a new subclass of its
 *   empty `files` multidict, only to word a `KeyError` on a form upload read without
 *   `enctype=multipart/form-data` (`flask.debughelpers.attach_enctype_error_multidict`). Such a
 *   read still raises `KeyError`, without the hint.
 */
export const MOTO_REQUEST_PATCH = String.raw`
import moto.core.responses as _rresponses
_method_names_of = {}
_method_names_listed = _rresponses.method_names_from_class
def _method_names_kept(clazz):
    names = _method_names_of.get(clazz)
    if names is None:
        names = _method_names_of[clazz] = _method_names_listed(clazz)
    return names
_rresponses.method_names_from_class = _method_names_kept

import re as _rre, email.parser as _remail, http.client as _rhttp
_HEADER_NAME = _rre.compile(r'[\041-\071\073-\176]+')
def _parse_plain_headers(fp, _class=_rhttp.HTTPMessage):
    lines = _rhttp._read_headers(fp)
    if lines[-1] not in (b'\r\n', b'\n'):
        return _remail.Parser(_class=_class).parsestr(b''.join(lines).decode('iso-8859-1'))
    msg = _class()
    for raw in lines[:-1]:
        line = raw.decode('iso-8859-1')
        text = line[:-2] if line.endswith('\r\n') else line[:-1] if line.endswith('\n') else None
        name, colon, value = (text or '').partition(':')
        if not colon or '\r' in text or not _HEADER_NAME.fullmatch(name):
            return _remail.Parser(_class=_class).parsestr(b''.join(lines).decode('iso-8859-1'))
        msg._headers.append((name, value.lstrip(' \t')))
    msg.set_payload('')
    return msg
_rhttp.parse_headers = _parse_plain_headers

import flask.debughelpers as _rdebug
_rdebug.attach_enctype_error_multidict = lambda request: None
`;
