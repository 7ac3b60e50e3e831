"""lambent managed Python runtime bootstrap.

Runs inside an execution environment as ``python3 bootstrap.py`` (Python 3.9+,
standard library only) and speaks the Lambda Runtime API (2018-06-01) to
``$AWS_LAMBDA_RUNTIME_API``, behaving like AWS's Python runtime interface client
(awslambdaric): same handler resolution, error types and messages, context
object, log line formats and error log records.

Start-up cost is kept low on purpose: HTTP/1.1 is spoken over a raw ``_socket``
(``socket``/``http.client`` cost 5-25 ms to import), JSON goes through the C
accelerator ``_json`` directly (the ``json`` package pulls in ``re``), and the
root ``logging`` handler is installed by an import hook the moment user code
first imports ``logging`` instead of importing it eagerly. Every fast path
falls back to the plain standard library when it is unavailable.

Layout of this file: a small loader, then the runtime itself as Python source
in the raw string ``_RUNTIME``. A script is never byte-code cached by Python
and compiling ~35 KB of source costs ~6 ms on every start, so the loader
compiles ``_RUNTIME`` once and keeps the marshalled code object in
``__pycache__/`` beside this file (keyed by interpreter, file size and mtime;
written even under -B, which only concerns imported modules; skipped silently
where the directory is read-only). Line
numbers in tracebacks are those of this file. Edit the runtime code inside
``_RUNTIME`` as ordinary Python; it must not contain three single quotes.
"""

import sys


def _lambent_code(source, first_line):
    """Code object for ``source`` (which starts on line ``first_line`` of this
    file), from the __pycache__ copy when it is current."""
    import marshal
    import os

    path = globals().get("__file__")
    cache = prefix = None
    if path and sys.implementation.cache_tag:
        path = os.path.abspath(path)
        importer = sys.modules.get("_frozen_importlib_external")
        magic = getattr(importer, "MAGIC_NUMBER", b"").hex()
        prefix = "%s.%s-" % (os.path.splitext(os.path.basename(path))[0], sys.implementation.cache_tag)
        try:
            st = os.stat(path)
            cache = os.path.join(
                os.path.dirname(path),
                "__pycache__",
                "%s%s.%d-%d.lambent.bin" % (prefix, magic, st.st_size, st.st_mtime_ns),
            )
            with open(cache, "rb") as f:
                return marshal.loads(f.read())
        except (OSError, ValueError, EOFError, TypeError):
            pass
    code = compile("\n" * (first_line - 1) + source, path or "<bootstrap>", "exec", dont_inherit=True)
    # Written even under -B: -B keeps bytecode out of user code directories,
    # and this cache only ever goes beside the bootstrap itself.
    if cache:
        try:
            cache_dir = os.path.dirname(cache)
            os.makedirs(cache_dir, exist_ok=True)
            for old in os.listdir(cache_dir):  # this interpreter's copies of older versions
                if old.startswith(prefix) and old.endswith(".lambent.bin"):
                    try:
                        os.unlink(os.path.join(cache_dir, old))
                    except OSError:
                        pass
            tmp = "%s.%d.tmp" % (cache, os.getpid())
            with open(tmp, "wb") as f:
                f.write(marshal.dumps(code))
            os.replace(tmp, cache)
        except OSError:
            pass
    return code


# The runtime source; it starts on the line of its opening quotes.
_RUNTIME_LINE = sys._getframe().f_lineno; _RUNTIME = r'''
import os
import sys
import time
import _socket

_API_PREFIX = "/2018-06-01/runtime"
_ERROR_LOG_LINE_TERMINATE = "\r"
_ERROR_LOG_IDENT = "\u00a0"  # NO-BREAK SPACE, as awslambdaric indents error records
_DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%S"
_TEXT_LOG_FORMAT = "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n"
_LAMBDA_WARNING = (
    "LAMBDA_WARNING: "
    "Unhandled exception. "
    "The most likely cause is an issue in the function code. "
    "However, in rare cases, a Lambda runtime update can cause unexpected function behavior. "
    "For functions using managed runtimes, runtime updates can be triggered by a function change, or can be applied automatically. "
    "To determine if the runtime has been updated, check the runtime version in the INIT_START log entry. "
    "If this error correlates with a change in the runtime version, you may be able to mitigate this error by temporarily rolling back to the previous runtime version. "
    "For more information, see https://docs.aws.amazon.com/lambda/latest/dg/runtimes-update.html"
)

_LOG_FORMAT_JSON = (os.environ.get("AWS_LAMBDA_LOG_FORMAT") or "").upper() == "JSON"
_LOG_LEVEL = (os.environ.get("AWS_LAMBDA_LOG_LEVEL") or "").upper()
if _LOG_LEVEL == "TRACE":
    _LOG_LEVEL = "DEBUG"

_GLOBAL_AWS_REQUEST_ID = None
_GLOBAL_TENANT_ID = None


# --------------------------------------------------------------------------
# stdout / stderr: every write reaches the pipe at once (awslambdaric's Unbuffered)
# --------------------------------------------------------------------------


class Unbuffered(object):
    def __init__(self, stream):
        self.stream = stream

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, exc_tb):
        pass

    def __getattr__(self, attr):
        return getattr(self.stream, attr)

    def write(self, msg):
        try:
            self.stream.write(msg)
            self.stream.flush()
        except BrokenPipeError:
            self._reader_gone()

    def writelines(self, msgs):
        try:
            self.stream.writelines(msgs)
            self.stream.flush()
        except BrokenPipeError:
            self._reader_gone()

    def _reader_gone(self):
        # The log pipe's reader went away: drop output from now on (the lost
        # Runtime API ends the process) rather than fail user code or buffer.
        try:
            fd = self.stream.fileno()
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, fd)
            os.close(null)
            self.stream.flush()
        except (OSError, ValueError):
            pass


def _log(msg):
    """Write one already-formatted record to the log (stdout), like StandardLogSink."""
    sys.stdout.write(msg)


# --------------------------------------------------------------------------
# JSON: the C accelerator directly, falling back to the json package
# --------------------------------------------------------------------------


class FaultException(Exception):
    MARSHAL_ERROR = "Runtime.MarshalError"
    UNMARSHAL_ERROR = "Runtime.UnmarshalError"
    USER_CODE_SYNTAX_ERROR = "Runtime.UserCodeSyntaxError"
    HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"
    IMPORT_MODULE_ERROR = "Runtime.ImportModuleError"
    BUILT_IN_MODULE_CONFLICT = "Runtime.BuiltInModuleConflict"
    MALFORMED_HANDLER_NAME = "Runtime.MalformedHandlerName"
    LAMBDA_CONTEXT_UNMARSHAL_ERROR = "Runtime.LambdaContextUnmarshalError"
    LAMBDA_RUNTIME_CLIENT_ERROR = "Runtime.LambdaRuntimeClientError"

    def __init__(self, exception_type, msg, trace=None):
        self.msg = msg
        self.exception_type = exception_type
        self.trace = trace


# awslambdaric encodes with simplejson, ensure_ascii=True except on python3.12,
# and turns Decimal into its exact text (RawJSON). Decimals are emitted here as
# placeholder strings that are swapped for their text after encoding.
_ENSURE_ASCII = os.environ.get("AWS_EXECUTION_ENV") != "AWS_Lambda_python3.12"
_DEC_NONCE = "%x" % ((id(Unbuffered) ^ int(time.time() * 1e6)) & 0xFFFFFFFF)
_DEC_TAG = "\x00\x01" + _DEC_NONCE + ":"  # as it goes in: "\x00\x01<nonce>:<index>\x00"
_DEC_TAG_OUT = '"\\u0000\\u0001' + _DEC_NONCE + ":"  # as it comes out of the encoder
_DEC_END_OUT = '\\u0000"'
_decimals = []


def _json_default(o):
    cls = type(o)
    if cls.__name__ == "Decimal" and cls.__module__ == "decimal":
        if o.is_nan():
            return float("nan")
        _decimals.append(str(o))
        return "%s%d\x00" % (_DEC_TAG, len(_decimals) - 1)
    raise TypeError("Object of type %s is not JSON serializable" % (o.__class__.__name__,))


def _make_codec():
    import _json

    class _Ctx(object):
        strict = True
        object_hook = None
        object_pairs_hook = None
        parse_float = float
        parse_int = int
        memo = {}

    consts = {"-Infinity": float("-inf"), "Infinity": float("inf"), "NaN": float("nan")}
    _Ctx.parse_constant = consts.__getitem__
    scan = _json.make_scanner(_Ctx())
    ws = " \t\n\r"

    def loads(s):
        if isinstance(s, (bytes, bytearray)):
            s = s.decode("utf-8")
        end = len(s)
        idx = end - len(s.lstrip(ws))
        obj, idx = scan(s, idx)
        if idx != end and s[idx:].strip(ws):
            raise ValueError("Extra data")
        return obj

    estr = _json.encode_basestring_ascii if _ENSURE_ASCII else _json.encode_basestring

    def dumps(obj):
        enc = _json.make_encoder({}, _json_default, estr, None, ": ", ", ", False, False, True)
        return "".join(enc(obj, 0))

    # Refuse the fast path unless it reproduces the json package on this interpreter.
    probe = '{"a": [1, 2.5, "\\u00e9x", null, true, false, {"b": -0.0}], "c": NaN}'
    if dumps(loads(probe)) != (probe if _ENSURE_ASCII else probe.replace("\\u00e9", "\u00e9")):
        raise RuntimeError("_json fast path mismatch")
    return loads, dumps


def _std_codec():
    import json

    def loads(s):
        return json.loads(s)

    def dumps(obj):
        return json.dumps(obj, default=_json_default, ensure_ascii=_ENSURE_ASCII)

    return loads, dumps


try:
    _fast_loads, _fast_dumps = _make_codec()
except Exception:  # pragma: no cover - other interpreters
    _fast_loads, _fast_dumps = _std_codec()


def _json_loads(s):
    try:
        return _fast_loads(s)
    except Exception:
        # The json package gives the exact exception (and message) users expect.
        import json

        return json.loads(s)


def to_json(obj):
    del _decimals[:]
    out = _fast_dumps(obj)
    if _decimals:
        parts = out.split(_DEC_TAG_OUT)
        for i in range(1, len(parts)):
            num, _, rest = parts[i].partition(_DEC_END_OUT)
            parts[i] = _decimals[int(num)] + rest
        out = "".join(parts)
        del _decimals[:]
    return out


# --------------------------------------------------------------------------
# Runtime API client: HTTP/1.1 over one keep-alive socket
# --------------------------------------------------------------------------


class _ConnectionClosed(Exception):
    """The server closed the connection before sending any byte of a response."""


class RuntimeClient(object):
    def __init__(self, address):
        host, _, port = address.rpartition(":")
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
        self.host = host or "127.0.0.1"
        self.port = int(port)
        self.sock = None
        self.buf = b""
        self.head = (
            "Host: %s\r\nUser-Agent: lambent-python/%d.%d.%d\r\n"
            % ((address,) + tuple(sys.version_info[:3]))
        ).encode("latin-1")
        self.next_request = (
            b"GET " + _API_PREFIX.encode() + b"/invocation/next HTTP/1.1\r\n" + self.head + b"\r\n"
        )

    def _connect(self):
        err = None
        host = self.host
        try:
            # bytes: a str host would make getaddrinfo import the idna codec (~5 ms)
            host = host.encode("ascii")
        except UnicodeEncodeError:
            pass
        for family, type_, proto, _, addr in _socket.getaddrinfo(
            host, self.port, 0, _socket.SOCK_STREAM
        ):
            sock = _socket.socket(family, type_, proto)
            try:
                sock.connect(addr)
            except OSError as e:
                sock.close()
                err = e
                continue
            sock.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
            self.sock = sock
            self.buf = b""
            return
        raise err or OSError("cannot connect to %s:%d" % (self.host, self.port))

    def close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
        self.sock = None
        self.buf = b""

    def request(self, raw):
        """Send one request (bytes) and return (status, headers, body). Reconnects
        once when a reused connection turns out to be closed."""
        for attempt in (0, 1):
            fresh = self.sock is None
            if fresh:
                self._connect()
            try:
                self.sock.sendall(raw)
                return self._read_response()
            except (_ConnectionClosed, ConnectionResetError, BrokenPipeError):
                self.close()
                if fresh or attempt:
                    raise ConnectionError("Runtime API closed the connection")
        raise ConnectionError("unreachable")

    def _recv(self):
        return self.sock.recv(262144)

    def _read_response(self):
        buf = self.buf
        while True:
            i = buf.find(b"\r\n\r\n")
            if i >= 0:
                break
            data = self._recv()
            if not data:
                if buf:
                    raise ConnectionError("Runtime API closed the connection mid-response")
                raise _ConnectionClosed()
            buf += data
        lines = buf[:i].decode("utf-8", "replace").split("\r\n")
        rest = buf[i + 4:]
        try:
            status = int(lines[0].split(" ", 2)[1])
        except (IndexError, ValueError):
            raise ConnectionError("malformed response from Runtime API: %r" % (lines[0],))
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        if status < 200 and status != 101:  # interim response: read the real one
            self.buf = rest
            return self._read_response()
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body, rest = self._read_chunked(rest)
        elif "content-length" in headers:
            n = int(headers["content-length"])
            if len(rest) >= n:
                body, rest = rest[:n], rest[n:]
            else:
                parts = [rest]
                have = len(rest)
                while have < n:
                    data = self._recv()
                    if not data:
                        raise ConnectionError("Runtime API closed the connection mid-body")
                    parts.append(data)
                    have += len(data)
                body = b"".join(parts)
                body, rest = body[:n], body[n:]
        elif status in (204, 304):
            body = b""
        else:  # body delimited by connection close
            parts = [rest]
            while True:
                data = self._recv()
                if not data:
                    break
                parts.append(data)
            body, rest = b"".join(parts), b""
            headers["connection"] = "close"
        if headers.get("connection", "").lower() == "close":
            self.close()
        else:
            self.buf = rest
        return status, headers, body

    def _read_chunked(self, buf):
        out = []
        while True:
            while b"\r\n" not in buf:
                data = self._recv()
                if not data:
                    raise ConnectionError("Runtime API closed the connection mid-body")
                buf += data
            line, _, buf = buf.partition(b"\r\n")
            size = int(line.split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                # trailers, up to an empty line
                while True:
                    while b"\r\n" not in buf:
                        data = self._recv()
                        if not data:
                            return b"".join(out), b""
                        buf += data
                    line, _, buf = buf.partition(b"\r\n")
                    if not line:
                        return b"".join(out), buf
            while len(buf) < size + 2:
                data = self._recv()
                if not data:
                    raise ConnectionError("Runtime API closed the connection mid-body")
                buf += data
            out.append(buf[:size])
            buf = buf[size + 2:]

    def _post(self, path, body, content_type, extra_headers=()):
        if isinstance(body, str):
            body = body.encode("utf-8")
        head = ["POST ", _API_PREFIX, path, " HTTP/1.1\r\n"]
        head.append("Content-Type: %s\r\nContent-Length: %d\r\n" % (content_type, len(body)))
        for k, v in extra_headers:
            head.append("%s: %s\r\n" % (k, v))
        raw = "".join(head).encode("utf-8") + self.head + b"\r\n" + body
        status, _, resp = self.request(raw)
        if not 200 <= status < 300:
            sys.stderr.write(
                "lambent runtime: POST %s failed: HTTP %d %s\n"
                % (path, status, resp.decode("utf-8", "replace"))
            )
        return status

    def wait_next_invocation(self):
        status, headers, body = self.request(self.next_request)
        if status != 200:
            raise FaultException(
                FaultException.LAMBDA_RUNTIME_CLIENT_ERROR,
                "LAMBDA_RUNTIME Failed to get next invocation: HTTP %d %s"
                % (status, body.decode("utf-8", "replace")),
            )
        return headers, body

    def post_invocation_result(self, invoke_id, result, content_type="application/json"):
        return self._post("/invocation/%s/response" % invoke_id, result, content_type)

    def post_invocation_error(self, invoke_id, error_json, error_type, xray_fault=""):
        extra = [("Lambda-Runtime-Function-Error-Type", _header_value(error_type))]
        if xray_fault and len(xray_fault) < 1024 * 1024:
            extra.append(("Lambda-Runtime-Function-XRay-Error-Cause", xray_fault))
        return self._post("/invocation/%s/error" % invoke_id, error_json, "application/json", extra)

    def post_init_error(self, error_json, error_type):
        extra = [("Lambda-Runtime-Function-Error-Type", _header_value(error_type))]
        return self._post("/init/error", error_json, "application/json", extra)


def _header_value(v):
    """A header-safe rendering of an error type (printable ASCII only)."""
    return "".join(c if " " <= c <= "~" else "?" for c in str(v or "Unhandled"))


# --------------------------------------------------------------------------
# Logging: awslambdaric's root handler, installed when `logging` is first imported
# --------------------------------------------------------------------------


def _format_time(created, msecs):
    return "%s.%03dZ" % (time.strftime(_DATETIME_FORMAT, time.gmtime(created)), msecs)


def _setup_logging(logging):
    logging.Formatter.converter = time.gmtime
    logger = logging.getLogger()

    class LambdaLoggerFilter(logging.Filter):
        def filter(self, record):
            record.aws_request_id = _GLOBAL_AWS_REQUEST_ID or ""
            record.tenant_id = _GLOBAL_TENANT_ID
            return True

    class LambdaLoggerHandler(logging.Handler):
        def emit(self, record):
            msg = self.format(record)
            if not _LOG_FORMAT_JSON:
                # One record stays one line for the platform's line reader.
                if msg.endswith("\n"):
                    msg = msg[:-1].replace("\n", "\r") + "\n"
                else:
                    msg = msg.replace("\n", "\r") + "\n"
            _log(msg)

    handler = LambdaLoggerHandler()
    if _LOG_FORMAT_JSON:
        handler.setFormatter(_make_json_formatter(logging)())
    else:
        handler.setFormatter(logging.Formatter(_TEXT_LOG_FORMAT, _DATETIME_FORMAT))
    if _LOG_LEVEL in logging._nameToLevel:
        logger.setLevel(_LOG_LEVEL)
    handler.addFilter(LambdaLoggerFilter())
    logger.addHandler(handler)


_RESERVED_FIELDS = {
    "name", "msg", "args", "levelname", "levelno", "pathname", "filename", "module",
    "exc_info", "exc_text", "stack_info", "lineno", "funcName", "created", "msecs",
    "relativeCreated", "thread", "threadName", "processName", "process",
    "aws_request_id", "tenant_id", "_frame_type", "taskName",
}


def _make_json_formatter(logging):
    import json

    encode = json.JSONEncoder(ensure_ascii=False).encode

    class JsonFormatter(logging.Formatter):
        def format(self, record):
            record.levelno = min(50, max(0, record.levelno)) // 10 * 10
            record.levelname = logging.getLevelName(record.levelno)
            exc = record.exc_info
            stack = None
            if exc:
                import traceback

                stack = traceback.format_tb(exc[2])
            result = {
                "timestamp": _format_time(record.created, int(record.created * 1000) % 1000),
                "level": record.levelname,
                "message": record.getMessage(),
                "logger": record.name,
                "stackTrace": stack,
                "errorType": exc[0].__name__ if exc else None,
                "errorMessage": str(exc[1]) if exc else None,
                "requestId": getattr(record, "aws_request_id", None),
                "location": "%s:%s:%s" % (record.pathname, record.funcName, record.lineno) if exc else None,
            }
            if getattr(record, "tenant_id", None) is not None:
                result["tenantId"] = record.tenant_id
            result.update(
                (k, v)
                for k, v in record.__dict__.items()
                if k not in _RESERVED_FIELDS and k not in result
            )
            result = {k: v for k, v in result.items() if v is not None}
            return encode(result) + "\n"

    return JsonFormatter


class _LoggingImportHook(object):
    """meta_path finder that configures `logging` right after it is first executed,
    so the root handler exists before any user logger, as on AWS, without paying
    for the import when the function never logs."""

    def find_spec(self, name, path=None, target=None):
        if name != "logging":
            return None
        try:
            sys.meta_path.remove(self)
        except ValueError:
            pass
        spec = None
        for finder in sys.meta_path:
            find_spec = getattr(finder, "find_spec", None)
            if find_spec is None:
                continue
            spec = find_spec(name, path, target)
            if spec is not None:
                break
        loader = getattr(spec, "loader", None)
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        original = loader.exec_module

        def exec_module(module):
            try:
                original(module)
            finally:
                try:
                    del loader.exec_module
                except AttributeError:
                    pass
            _setup_logging(module)

        try:
            loader.exec_module = exec_module
        except (AttributeError, TypeError):
            return spec
        return spec


def _install_logging():
    if "logging" in sys.modules:
        _setup_logging(sys.modules["logging"])
    else:
        sys.meta_path.insert(0, _LoggingImportHook())


def _log_warning(msg):
    """logging.warning(msg) on the root logger, without importing logging."""
    logging = sys.modules.get("logging")
    if logging is not None:
        logging.warning(msg)
        return
    now = time.time()
    if _LOG_FORMAT_JSON:
        rec = {
            "timestamp": _format_time(now, int(now * 1000) % 1000),
            "level": "WARNING",
            "message": msg,
            "logger": "root",
        }
        _log(to_json(rec) + "\n")
    else:
        _log(
            "[WARNING]\t%s\t%s\t%s\n"
            % (_format_time(now, int(now * 1000) % 1000), _GLOBAL_AWS_REQUEST_ID or "", msg.replace("\n", "\r"))
        )


# --------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------


def make_error(error_message, error_type, stack_trace, invoke_id=None):
    return {
        "errorMessage": error_message if error_message else "",
        "errorType": error_type if error_type else "",
        "requestId": invoke_id if invoke_id is not None else "",
        "stackTrace": stack_trace if stack_trace else [],
    }


def replace_line_indentation(line, indent_char, new_indent_char):
    n = 0
    for c in line:
        if c != indent_char:
            break
        n += 1
    return (new_indent_char * n) + line[n:]


def log_error(error_result):
    if _LOG_FORMAT_JSON:
        rec = {"timestamp": time.strftime(_DATETIME_FORMAT, time.gmtime()), "level": "ERROR"}
        rec.update(error_result)
        _log(to_json(rec) + "\n")
        return
    description = "[ERROR]"
    etype = error_result.get("errorType")
    if etype:
        description += " " + etype
    emsg = error_result.get("errorMessage")
    if emsg:
        if etype:
            description += ":"
        description += " " + emsg
    lines = [description]
    stack_trace = error_result.get("stackTrace")
    if stack_trace is not None:
        lines.append("Traceback (most recent call last):")
        for element in stack_trace:
            if element == "":
                lines.append("")
            else:
                for trace_line in element.splitlines():
                    lines.append(replace_line_indentation(trace_line, " ", _ERROR_LOG_IDENT))
    # One record, one line: awslambdaric's StandardLogSink joins with "\r"; a
    # multi-line errorMessage is folded the same way.
    _log(_ERROR_LOG_LINE_TERMINATE.join(lines).replace("\n", "\r") + "\n")


def _extract_traceback(tb):
    import traceback

    tuples = [(f.filename, f.lineno, f.name, f.line) for f in traceback.extract_tb(tb)]
    for i in range(len(tuples)):
        if tuples[i][0] != _SELF_FILE:
            return tuples[i:]
    return tuples


def _format_list(tb_tuples):
    import traceback

    return traceback.format_list(tb_tuples)


def make_xray_fault(ex_type, ex_msg, working_dir, tb_tuples):
    stack = []
    files = []
    for tb_file, tb_line, tb_method, _ in tb_tuples:
        stack.append({"label": tb_method, "path": tb_file, "line": tb_line})
        if tb_file not in files:
            files.append(tb_file)
    return {
        "working_directory": working_dir,
        "exceptions": [{"message": ex_msg, "type": ex_type, "stack": stack}],
        "paths": files,
    }


def build_fault_result(exc_info, msg):
    etype, value, tb = exc_info
    tb_tuples = _extract_traceback(tb)
    return make_error(msg if msg else str(value), etype.__name__, _format_list(tb_tuples))


# --------------------------------------------------------------------------
# Context object (awslambdaric's LambdaContext)
# --------------------------------------------------------------------------

W3C_ALLOWED_FIELDS = ("traceparent", "tracestate", "baggage")


class CognitoIdentity(object):
    __slots__ = ["cognito_identity_id", "cognito_identity_pool_id"]

    def __repr__(self):
        return (
            "%s([cognito_identity_id=%s,cognito_identity_pool_id=%s])"
            % (self.__class__.__name__, self.cognito_identity_id, self.cognito_identity_pool_id)
        )


class Client(object):
    __slots__ = ["installation_id", "app_title", "app_version_name", "app_version_code", "app_package_name"]

    def __repr__(self):
        return "%s([%s])" % (
            self.__class__.__name__,
            ",".join("%s=%s" % (f, getattr(self, f)) for f in self.__slots__),
        )


class ClientContext(object):
    __slots__ = ["custom", "env", "client"]

    def __repr__(self):
        return "%s([custom=%s,env=%s,client=%s])" % (
            self.__class__.__name__, self.custom, self.env, self.client,
        )


def make_obj_from_dict(_class, _dict):
    if _dict is None:
        return None
    obj = _class()
    for field in _class.__slots__:
        setattr(obj, field, _dict.get(field, None))
    return obj


_ENV = os.environ


class LambdaContext(object):
    def __init__(self, invoke_id, client_context, cognito_identity, epoch_deadline_time_in_ms,
                 invoked_function_arn=None, tenant_id=None):
        self.aws_request_id = invoke_id
        self.log_group_name = _ENV.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = _ENV.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = _ENV.get("AWS_LAMBDA_FUNCTION_NAME")
        # A string, as in awslambdaric (it is read from the environment).
        self.memory_limit_in_mb = _ENV.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = _ENV.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = invoked_function_arn
        self.tenant_id = tenant_id
        self._w3c_fields = self._extract_and_strip_w3c(client_context)

        self.client_context = make_obj_from_dict(ClientContext, client_context)
        if self.client_context is not None:
            self.client_context.client = make_obj_from_dict(Client, self.client_context.client)

        self.identity = make_obj_from_dict(CognitoIdentity, {})
        if cognito_identity is not None:
            self.identity.cognito_identity_id = cognito_identity.get("cognitoIdentityId")
            self.identity.cognito_identity_pool_id = cognito_identity.get("cognitoIdentityPoolId")

        self._epoch_deadline_time_in_ms = epoch_deadline_time_in_ms

    def get_remaining_time_in_millis(self):
        delta_ms = self._epoch_deadline_time_in_ms - int(time.time() * 1000)
        return delta_ms if delta_ms > 0 else 0

    def w3c(self):
        return dict(self._w3c_fields)

    @staticmethod
    def _extract_and_strip_w3c(client_context):
        if not isinstance(client_context, dict) or "w3c" not in client_context:
            return {}
        raw = client_context.pop("w3c")
        if not isinstance(raw, dict):
            return {}
        return {k: raw[k] for k in W3C_ALLOWED_FIELDS if isinstance(raw.get(k), str)}

    def log(self, msg):
        _log(str(msg))

    def __repr__(self):
        return (
            "%s([aws_request_id=%s,log_group_name=%s,log_stream_name=%s,function_name=%s,"
            "memory_limit_in_mb=%s,function_version=%s,invoked_function_arn=%s,"
            "client_context=%s,identity=%s,tenant_id=%s])"
            % (
                self.__class__.__name__, self.aws_request_id, self.log_group_name,
                self.log_stream_name, self.function_name, self.memory_limit_in_mb,
                self.function_version, self.invoked_function_arn, self.client_context,
                self.identity, self.tenant_id,
            )
        )


def parse_json_header(header, name):
    try:
        return _json_loads(header)
    except Exception as e:
        raise FaultException(
            FaultException.LAMBDA_CONTEXT_UNMARSHAL_ERROR,
            "Unable to parse {} JSON: {}".format(name, str(e)),
            None,
        )


# --------------------------------------------------------------------------
# Handler loading
# --------------------------------------------------------------------------


def _get_handler(handler):
    try:
        modname, fname = handler.rsplit(".", 1)
    except ValueError as e:
        raise FaultException(
            FaultException.MALFORMED_HANDLER_NAME,
            "Bad handler '{}': {}".format(handler, str(e)),
        )

    try:
        if modname.split(".")[0] in sys.builtin_module_names:
            raise FaultException(
                FaultException.BUILT_IN_MODULE_CONFLICT,
                "Cannot use built-in module {} as a handler module".format(modname),
            )
        dotted = modname.replace("/", ".")
        __import__(dotted)
        m = sys.modules[dotted]
    except ImportError as e:
        raise FaultException(
            FaultException.IMPORT_MODULE_ERROR,
            "Unable to import module '{}': {}".format(modname, str(e)),
        )
    except SyntaxError as e:
        trace = ['  File "%s" Line %s\n    %s' % (e.filename, e.lineno, e.text)]
        raise FaultException(
            FaultException.USER_CODE_SYNTAX_ERROR,
            "Syntax error in module '{}': {}".format(modname, str(e)),
            trace,
        )

    try:
        request_handler = getattr(m, fname)
    except AttributeError:
        raise FaultException(
            FaultException.HANDLER_NOT_FOUND,
            "Handler '{}' missing on module '{}'".format(fname, modname),
            None,
        )
    return request_handler


# --------------------------------------------------------------------------
# Invoke
# --------------------------------------------------------------------------


def handle_event_request(client, request_handler, headers, event_body):
    global _GLOBAL_AWS_REQUEST_ID, _GLOBAL_TENANT_ID
    invoke_id = headers.get("lambda-runtime-aws-request-id", "")
    tenant_id = headers.get("lambda-runtime-aws-tenant-id") or None
    _GLOBAL_AWS_REQUEST_ID = invoke_id
    _GLOBAL_TENANT_ID = tenant_id
    trace_id = headers.get("lambda-runtime-trace-id")
    if trace_id:
        _ENV["_X_AMZN_TRACE_ID"] = trace_id
    elif "_X_AMZN_TRACE_ID" in _ENV:
        del _ENV["_X_AMZN_TRACE_ID"]

    error_result = None
    xray_fault = None
    try:
        client_context = headers.get("lambda-runtime-client-context")
        cognito = headers.get("lambda-runtime-cognito-identity")
        deadline = headers.get("lambda-runtime-deadline-ms")
        context = LambdaContext(
            invoke_id,
            parse_json_header(client_context, "Client Context") if client_context else None,
            parse_json_header(cognito, "Cognito Identity") if cognito else None,
            int(deadline) if deadline else 0,
            headers.get("lambda-runtime-invoked-function-arn"),
            tenant_id,
        )
        content_type = headers.get("content-type", "application/json")
        if content_type != "application/json":
            event = event_body
        else:
            try:
                event = _json_loads(event_body)
            except Exception as e:
                raise FaultException(
                    FaultException.UNMARSHAL_ERROR,
                    "Unable to unmarshal input: {}".format(str(e)),
                    None,
                )
        response = request_handler(event, context)
        if isinstance(response, bytes):
            result, result_content_type = response, "application/unknown"
        else:
            try:
                result, result_content_type = to_json(response), "application/json"
            except Exception as e:
                raise FaultException(
                    FaultException.MARSHAL_ERROR,
                    "Unable to marshal response: {}".format(str(e)),
                    None,
                )
    except FaultException as e:
        xray_fault = make_xray_fault("LambdaValidationError", e.msg, os.getcwd(), [])
        error_result = make_error(e.msg, e.exception_type, e.trace, invoke_id)
    except Exception:
        etype, value, tb = sys.exc_info()
        tb_tuples = _extract_traceback(tb)
        xray_fault = make_xray_fault(etype.__name__, str(value), os.getcwd(), tb_tuples)
        error_result = make_error(str(value), etype.__name__, _format_list(tb_tuples), invoke_id)

    if error_result is not None:
        log_error(error_result)
        try:
            xray = to_json(xray_fault)
        except Exception:
            xray = ""
        client.post_invocation_error(invoke_id, to_json(error_result), error_result["errorType"], xray)
    else:
        client.post_invocation_result(invoke_id, result, result_content_type)


def _init_sys_path(task_root):
    script_dir = os.path.dirname(os.path.abspath(sys.argv[0])) if sys.argv and sys.argv[0] else None
    if script_dir and sys.path and sys.path[0] in (script_dir, ""):
        del sys.path[0]
    paths = [task_root]
    # Layer locations, as on AWS, when present.
    for p in ("/opt/python/lib/python%d.%d/site-packages" % sys.version_info[:2], "/opt/python"):
        if os.path.isdir(p):
            paths.append(p)
    sys.path[0:0] = [p for p in paths if p not in sys.path]
    # The SDK AWS's runtime includes (boto3), which lambent names with -X: after the code,
    # the layers, PYTHONPATH and the standard library, as AWS has it in the runtime's own
    # site-packages, so that a function's own copy wins; before the host interpreter's
    # site-packages, so that the runtime's version does.
    sdk = getattr(sys, "_xoptions", {}).get("lambent_sdk")
    if sdk and sdk not in sys.path:
        at = len(sys.path)
        for i, p in enumerate(sys.path):
            if os.path.basename(p) in ("site-packages", "dist-packages") and p not in paths:
                at = i
                break
        sys.path.insert(at, sdk)


def main():
    sys.stdout = Unbuffered(sys.stdout)
    sys.stderr = Unbuffered(sys.stderr)
    _install_logging()

    handler_name = sys.argv[1] if len(sys.argv) > 1 else _ENV.get("_HANDLER", "")
    task_root = _ENV.get("LAMBDA_TASK_ROOT") or os.getcwd()
    _init_sys_path(task_root)
    client = RuntimeClient(_ENV.get("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"))

    try:
        request_handler = _get_handler(handler_name)
    except Exception as e:
        if isinstance(e, FaultException):
            error_result = make_error(e.msg, e.exception_type, e.trace)
        else:
            error_result = build_fault_result(sys.exc_info(), None)
        _log_warning(_LAMBDA_WARNING)
        log_error(error_result)
        client.post_init_error(to_json(error_result), error_result["errorType"])
        sys.exit(1)

    while True:
        headers, body = client.wait_next_invocation()
        handle_event_request(client, request_handler, headers, body)


_SELF_FILE = main.__code__.co_filename

if __name__ == "__main__":
    main()
'''


def _lambent_stem(fd):
    """Run as a stem (an environment started before its function is known):
    load what every function needs, then wait on ``fd`` for the assignment
    lambent sends once the function's code is mounted: the working directory,
    a program name (unused here), then the function's environment, each
    NUL-terminated, then end of file. It replaces this process's environment."""
    import os
    import time
    import _socket  # noqa: F401  (the runtime client's)
    import _json  # noqa: F401

    try:
        import json  # noqa: F401  (nearly every handler imports it; it pulls in re)
    except ImportError:
        pass
    chunks = []
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(fd)
    entries = b"".join(chunks).split(b"\0")
    if len(entries) < 3:
        os._exit(0)  # let go unassigned
    os.environ.clear()
    for entry in entries[2:]:
        if entry:
            key, _, value = entry.partition(b"=")
            os.environb[key] = value
    os.chdir(entries[0])
    time.tzset()


_lambent_runtime = _lambent_code(_RUNTIME, _RUNTIME_LINE)
if __name__ == "__main__" and "_LAMBENT_STEM" in __import__("os").environ:
    _lambent_stem(int(__import__("os").environ["_LAMBENT_STEM"]))
exec(_lambent_runtime)
