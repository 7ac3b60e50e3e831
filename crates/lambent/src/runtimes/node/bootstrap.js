/**
 * lambent managed Node.js runtime bootstrap.
 *
 * Runs inside an execution environment as `node bootstrap.js` (Node 18+,
 * CommonJS, built-in modules only) and speaks the Lambda Runtime API
 * (2018-06-01) to $AWS_LAMBDA_RUNTIME_API, behaving like AWS's Node.js runtime
 * interface client (aws-lambda-nodejs-runtime-interface-client, the code
 * behind /var/runtime/index.mjs): same handler resolution (CommonJS, ES
 * modules, package.json "type"), handler styles (async, callback,
 * context.done/succeed/fail), callbackWaitsForEmptyEventLoop through the
 * process 'beforeExit' event, error types and payloads, console patching and
 * log line formats, response streaming (awslambda.streamifyResponse).
 *
 * The Runtime API is reached over one keep-alive `net` socket (a small
 * HTTP/1.1 client, RuntimeConnection), unref'd while idle, so between a
 * handler's start and its completion nothing of the runtime keeps the event
 * loop alive: 'beforeExit' fires exactly when the user's work has drained, as
 * on AWS.
 */

'use strict';

const net = require('net');
const fs = require('fs');
const path = require('path');
const util = require('util');

/* ------------------------------------------------------------------------ */
/* Errors                                                                    */
/* ------------------------------------------------------------------------ */

function _isError(obj) {
  return (
    obj &&
    obj.name &&
    obj.message &&
    obj.stack &&
    typeof obj.name === 'string' &&
    typeof obj.message === 'string' &&
    typeof obj.stack === 'string'
  );
}

function intoError(err) {
  if (err instanceof Error) {
    return err;
  }
  return new Error(err);
}

/** The payload posted to /error and /init/error. */
function toRapidResponse(error) {
  try {
    if (util.types.isNativeError(error) || _isError(error)) {
      return {
        errorType: error.name,
        errorMessage: error.message,
        trace: error.stack.split('\n'),
      };
    }
    return {
      errorType: typeof error,
      errorMessage: error.toString(),
      trace: [],
    };
  } catch (_err) {
    return {
      errorType: 'handled',
      errorMessage:
        'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack',
    };
  }
}

function _withEnumerableProperties(error) {
  if (error instanceof Error) {
    const ret = Object.assign(
      {
        errorType: error.name,
        errorMessage: error.message,
        code: error.code,
      },
      error,
    );
    if (typeof error.stack == 'string') {
      ret.stack = error.stack.split('\n');
    }
    return ret;
  }
  return error;
}

/** Error as logged in text format; always starts with a tab, like AWS. */
function toFormatted(error) {
  try {
    return '\t' + JSON.stringify(error, (_k, v) => _withEnumerableProperties(v));
  } catch (err) {
    return '\t' + JSON.stringify(toRapidResponse(error));
  }
}

class ImportModuleError extends Error {}
class HandlerNotFound extends Error {}
class MalformedHandlerName extends Error {}
class UserCodeSyntaxError extends Error {}
class MalformedStreamingHandler extends Error {}
class InvalidStreamingOperation extends Error {}
class UnhandledPromiseRejection extends Error {
  constructor(reason, promise) {
    super(reason);
    this.reason = reason;
    this.promise = promise;
  }
}
class NodeJsExit extends Error {
  constructor() {
    super(
      'The Lambda runtime client detected an unexpected Node.js exit code. This is most commonly caused by a Promise that was never settled. For more information, see https://nodejs.org/docs/latest/api/process.html#exit-codes',
    );
  }
}
for (const e of [
  ImportModuleError,
  HandlerNotFound,
  MalformedHandlerName,
  UserCodeSyntaxError,
  MalformedStreamingHandler,
  InvalidStreamingOperation,
  UnhandledPromiseRejection,
  NodeJsExit,
]) {
  e.prototype.name = `Runtime.${e.name}`;
}

/* ------------------------------------------------------------------------ */
/* Console patching (LogPatch)                                               */
/* ------------------------------------------------------------------------ */

const REQUEST_ID_SYMBOL = Symbol.for('aws.lambda.runtime.requestId');
const TENANT_ID_SYMBOL = Symbol.for('aws.lambda.runtime.tenantId');
const setCurrentRequestId = (id) => (global[REQUEST_ID_SYMBOL] = id);
const setCurrentTenantId = (id) => (global[TENANT_ID_SYMBOL] = id);
const structuredConsole = {};

const jsonErrorReplacer = (_, value) => {
  if (value instanceof Error) {
    return Object.assign(
      {
        errorType: value?.constructor?.name ?? 'UnknownError',
        errorMessage: value.message,
        stackTrace: typeof value.stack === 'string' ? value.stack.split('\n') : value.stack,
      },
      value,
    );
  }
  return value;
};

function formatJsonMessage(requestId, timestamp, level, ...messageParams) {
  const result = {
    timestamp: timestamp,
    level: level.name,
    requestId: requestId,
  };
  const tenantId = global[TENANT_ID_SYMBOL];
  if (tenantId !== undefined && tenantId !== null) {
    result.tenantId = tenantId;
  }
  if (messageParams.length === 1) {
    result.message = messageParams[0];
    try {
      return JSON.stringify(result, jsonErrorReplacer);
    } catch (_) {
      result.message = util.format(result.message);
      return JSON.stringify(result);
    }
  }
  result.message = util.format(...messageParams);
  for (const param of messageParams) {
    if (param instanceof Error) {
      result.errorType = param?.constructor?.name ?? 'UnknownError';
      result.errorMessage = param.message;
      result.stackTrace = typeof param.stack === 'string' ? param.stack.split('\n') : [];
      break;
    }
  }
  return JSON.stringify(result);
}

let _stdioGuarded = false;

/**
 * A log pipe whose reader went away must not turn into an 'error' event
 * (uncaught -> logged -> EPIPE again -> ... an endless loop): writes are then
 * dropped, and the lost Runtime API ends the process. Installed on first use,
 * since creating process.stdout costs ~2 ms of start-up.
 */
function _guardStdio() {
  _stdioGuarded = true;
  process.stdout.on('error', () => {});
  process.stderr.on('error', () => {});
}

function _writeLine(line) {
  if (!_stdioGuarded) _guardStdio();
  // One record is one line for the platform's line reader: inner newlines
  // become '\r', as AWS does on stdout. process.stdout is synchronous for
  // pipes and files on Linux.
  process.stdout.write(line.replace(/\n/g, '\r') + '\n');
}

function logTextToStdout(level, message, ...params) {
  const time = new Date().toISOString();
  const requestId = global[REQUEST_ID_SYMBOL];
  _writeLine(`${time}\t${requestId}\t${level.name}\t${util.format(message, ...params)}`);
}

function logJsonToStdout(level, message, ...params) {
  const time = new Date().toISOString();
  const requestId = global[REQUEST_ID_SYMBOL];
  _writeLine(formatJsonMessage(requestId, time, level, message, ...params));
}

function _patchConsoleWith(log) {
  const NopLog = (_message, ..._params) => {};
  const levels = Object.freeze({
    TRACE: { name: 'TRACE', priority: 1 },
    DEBUG: { name: 'DEBUG', priority: 2 },
    INFO: { name: 'INFO', priority: 3 },
    WARN: { name: 'WARN', priority: 4 },
    ERROR: { name: 'ERROR', priority: 5 },
    FATAL: { name: 'FATAL', priority: 6 },
  });
  const awsLambdaLogLevel =
    levels[process.env['AWS_LAMBDA_LOG_LEVEL']?.toUpperCase()] ?? levels.TRACE;
  const make = (level) =>
    level.priority >= awsLambdaLogLevel.priority
      ? (msg, ...params) => {
          log(level, msg, ...params);
        }
      : NopLog;
  console.trace = make(levels.TRACE);
  console.debug = make(levels.DEBUG);
  console.info = make(levels.INFO);
  console.log = console.info;
  console.warn = make(levels.WARN);
  console.error = make(levels.ERROR);
  console.fatal = (msg, ...params) => {
    log(levels.FATAL, msg, ...params);
  };
}

function patchConsole() {
  const json = process.env['AWS_LAMBDA_LOG_FORMAT']?.toUpperCase() === 'JSON';
  _patchConsoleWith(json ? logJsonToStdout : logTextToStdout);
  structuredConsole.logError = json
    ? (_, err) => {
        console.error(intoError(err));
      }
    : (msg, err) => {
        console.error(msg, toFormatted(intoError(err)));
      };
}

/* ------------------------------------------------------------------------ */
/* Runtime API client                                                        */
/* ------------------------------------------------------------------------ */

const API_PREFIX = '/2018-06-01/runtime';
const ERROR_TYPE_HEADER = 'Lambda-Runtime-Function-Error-Type';

function _parseHostPort(hostnamePort) {
  const i = hostnamePort.lastIndexOf(':');
  let hostname = i >= 0 ? hostnamePort.slice(0, i) : hostnamePort;
  const port = i >= 0 ? parseInt(hostnamePort.slice(i + 1), 10) : 80;
  if (hostname.startsWith('[') && hostname.endsWith(']')) {
    hostname = hostname.slice(1, -1);
  }
  return { hostname: hostname || '127.0.0.1', port };
}

function _trySerializeResponse(body) {
  try {
    return JSON.stringify(body === undefined ? null : body);
  } catch (err) {
    throw new Error('Unable to stringify response body');
  }
}

/** A header-safe rendering of an error type (printable ASCII only). */
function _headerValue(v) {
  return String(v === undefined || v === null || v === '' ? 'Unhandled' : v).replace(
    /[^\x20-\x7e]/g,
    '?',
  );
}

function _fatal(what, err) {
  try {
    fs.writeSync(2, `lambent runtime: ${what}: ${err && err.stack ? err.stack : err}\n`);
  } catch (_) {
    // stderr gone as well
  }
  process.exit(1);
}

const CRLF2 = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');
const EMPTY = Buffer.alloc(0);

function _connectionError(code, message) {
  const err = new Error(message);
  err.code = code;
  return err;
}

/**
 * HTTP/1.1 over one keep-alive `net` socket: requests are written whole (head
 * and body in one write, TCP_NODELAY) and answered in order; responses with
 * Content-Length, chunked or close-delimited bodies are read. The socket is
 * unref'd whenever no request is outstanding, so it never keeps the event loop
 * alive by itself (this is what lets 'beforeExit' drive
 * callbackWaitsForEmptyEventLoop). A reused connection that the server had
 * closed is reconnected and the request resent once. (`http` costs ~6 ms more
 * start-up than this.)
 */
class RuntimeConnection {
  constructor(hostname, port, hostHeader) {
    this.hostname = hostname;
    this.port = port;
    this.prefix = `Host: ${hostHeader}\r\nUser-Agent: lambent-node/${process.versions.node}\r\n`;
    this.sock = null;
    this.queue = [];
    this.current = null;
    this.buf = EMPTY;
  }

  request(method, p, headers, body) {
    let head = `${method} ${p} HTTP/1.1\r\n${this.prefix}`;
    for (const k in headers) head += `${k}: ${headers[k]}\r\n`;
    if (body !== undefined) head += `Content-Length: ${body.length}\r\n`;
    head += '\r\n';
    const h = Buffer.from(head, 'latin1');
    const raw = body && body.length ? Buffer.concat([h, body]) : h;
    return new Promise((resolve, reject) => {
      this.queue.push({ raw, resolve, reject, retried: false });
      if (!this.current) this._next();
    });
  }

  _next() {
    const req = this.queue.shift();
    if (!req) {
      if (this.sock) this.sock.unref();
      return;
    }
    this.current = req;
    req.gotBytes = false;
    req.fresh = !this.sock;
    if (req.fresh) this._connect();
    else this.sock.ref();
    this._resetParser();
    this.sock.write(req.raw);
  }

  _connect() {
    const sock = net.connect({ host: this.hostname, port: this.port });
    sock.setNoDelay(true);
    this.sock = sock;
    this.buf = EMPTY;
    sock.on('data', (chunk) => {
      if (this.sock === sock) this._onData(chunk);
    });
    sock.on('error', (err) => {
      if (this.sock === sock) this._onBroken(err);
    });
    sock.on('close', () => {
      if (this.sock === sock) this._onBroken(null);
    });
  }

  _drop() {
    const sock = this.sock;
    this.sock = null;
    this.buf = EMPTY;
    if (sock) sock.destroy();
  }

  _onBroken(err) {
    const req = this.current;
    const closeDelimited = this.state === 'close';
    this._drop();
    if (!req) return; // an idle connection went away: reconnect on next use
    if (closeDelimited && !err) {
      this._finish(Buffer.concat(this.parts), true);
      return;
    }
    this.current = null;
    if (!req.gotBytes && !req.fresh && !req.retried) {
      req.retried = true;
      this.queue.unshift(req);
      this._next();
      return;
    }
    req.reject(err || _connectionError('ECONNRESET', 'Runtime API closed the connection'));
    this._next();
  }

  _resetParser() {
    this.state = 'head';
    this.status = 0;
    this.headers = null;
    this.parts = [];
    this.have = 0;
    this.need = 0;
  }

  _onData(chunk) {
    if (!this.current) return; // nothing was asked: ignore
    this.current.gotBytes = true;
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    try {
      this._parse();
    } catch (err) {
      const req = this.current;
      this.current = null;
      this._drop();
      req.reject(err);
      this._next();
    }
  }

  _parse() {
    for (;;) {
      const buf = this.buf;
      switch (this.state) {
        case 'head': {
          const i = buf.indexOf(CRLF2);
          if (i < 0) return;
          const lines = buf.toString('utf8', 0, i).split('\r\n');
          this.buf = buf.subarray(i + 4);
          const status = parseInt(lines[0].split(' ')[1], 10);
          if (!(status >= 100)) throw new Error(`malformed response from Runtime API: ${lines[0]}`);
          if (status < 200) continue; // interim response
          const headers = {};
          for (let j = 1; j < lines.length; j++) {
            const c = lines[j].indexOf(':');
            if (c > 0) headers[lines[j].slice(0, c).trim().toLowerCase()] = lines[j].slice(c + 1).trim();
          }
          this.status = status;
          this.headers = headers;
          if (/chunked/i.test(headers['transfer-encoding'] || '')) {
            this.state = 'chunk-size';
          } else if (headers['content-length'] !== undefined) {
            this.state = 'body';
            this.need = parseInt(headers['content-length'], 10) || 0;
          } else if (status === 204 || status === 304) {
            this.state = 'body';
            this.need = 0;
          } else {
            this.state = 'close';
          }
          continue;
        }
        case 'body':
        case 'chunk-data': {
          const take = Math.min(this.need - this.have, buf.length);
          if (take > 0) {
            this.parts.push(take === buf.length ? buf : buf.subarray(0, take));
            this.have += take;
          }
          this.buf = take === buf.length ? EMPTY : buf.subarray(take);
          if (this.have < this.need) return;
          if (this.state === 'body') {
            this._finish(this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts), false);
            return;
          }
          this.state = 'chunk-end';
          continue;
        }
        case 'chunk-end': {
          if (buf.length < 2) return;
          this.buf = buf.subarray(2);
          this.state = 'chunk-size';
          continue;
        }
        case 'chunk-size': {
          const i = buf.indexOf(CRLF);
          if (i < 0) return;
          const size = parseInt(buf.toString('latin1', 0, i).split(';')[0].trim() || '0', 16);
          this.buf = buf.subarray(i + 2);
          if (size === 0) {
            this.state = 'trailers';
          } else {
            this.state = 'chunk-data';
            this.need = this.have + size;
          }
          continue;
        }
        case 'trailers': {
          const i = buf.indexOf(CRLF);
          if (i < 0) return;
          this.buf = buf.subarray(i + 2);
          if (i === 0) {
            this._finish(Buffer.concat(this.parts), false);
            return;
          }
          continue;
        }
        case 'close':
          if (buf.length) this.parts.push(buf);
          this.buf = EMPTY;
          return;
        default:
          return;
      }
    }
  }

  _finish(body, closed) {
    const req = this.current;
    this.current = null;
    const res = { status: this.status, headers: this.headers, body };
    if (!closed && (this.headers.connection || '').toLowerCase() === 'close') this._drop();
    this._resetParser();
    req.resolve(res);
    this._next();
  }
}

class RAPIDClient {
  constructor(hostnamePort) {
    const { hostname, port } = _parseHostPort(hostnamePort);
    this.hostname = hostname;
    this.port = port;
    this.conn = new RuntimeConnection(hostname, port, hostnamePort);
  }

  _request(method, p, body, headers) {
    return this.conn.request(method, p, headers, body);
  }

  _post(p, bodyString, extraHeaders, callback) {
    const body = Buffer.from(bodyString, 'utf8');
    const headers = Object.assign(
      { 'Content-Type': 'application/json', 'Content-Length': body.length },
      extraHeaders,
    );
    this._request('POST', API_PREFIX + p, body, headers).then(
      (res) => {
        if (res.status < 200 || res.status >= 300) {
          process.stderr.write(
            `lambent runtime: POST ${p} failed: HTTP ${res.status} ${res.body.toString('utf8')}\n`,
          );
        }
        if (typeof callback === 'function') callback();
      },
      (err) => _fatal(`POST ${p}`, err),
    );
  }

  async nextInvocation() {
    const res = await this._request('GET', API_PREFIX + '/invocation/next', undefined, {});
    if (res.status !== 200) {
      throw new Error(
        `Failed to get next invocation, HTTP ${res.status}: ${res.body.toString('utf8')}`,
      );
    }
    return { bodyJson: res.body.toString('utf8'), headers: res.headers };
  }

  postInvocationResponse(response, id, callback) {
    const bodyString = _trySerializeResponse(response);
    this._post(`/invocation/${encodeURIComponent(id)}/response`, bodyString, {}, callback);
  }

  postInvocationError(error, id, callback) {
    const response = toRapidResponse(error);
    const bodyString = _trySerializeResponse(response);
    this._post(
      `/invocation/${encodeURIComponent(id)}/error`,
      bodyString,
      { [ERROR_TYPE_HEADER]: _headerValue(response.errorType) },
      callback,
    );
  }

  postInitError(error, callback) {
    const response = toRapidResponse(error);
    this._post(
      '/init/error',
      _trySerializeResponse(response),
      { [ERROR_TYPE_HEADER]: _headerValue(response.errorType) },
      callback,
    );
  }

  /**
   * A chunked POST of a streamed response (Lambda-Runtime-Function-Response-Mode:
   * streaming), on its own connection through `http` (loaded only here).
   */
  streamingRequest(id, contentType) {
    const http = require('http');
    if (!this.streamAgent) this.streamAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    return http.request({
      hostname: this.hostname,
      port: this.port,
      method: 'POST',
      path: `${API_PREFIX}/invocation/${encodeURIComponent(id)}/response`,
      agent: this.streamAgent,
      headers: {
        'Content-Type': contentType,
        'Lambda-Runtime-Function-Response-Mode': 'streaming',
        'Transfer-Encoding': 'chunked',
        Trailer: 'Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body',
      },
    });
  }
}

/* ------------------------------------------------------------------------ */
/* beforeExit listener                                                       */
/* ------------------------------------------------------------------------ */

const BEFORE_EXIT_SYMBOL = Symbol.for('aws.lambda.beforeExit');
const NO_OP_LISTENER = () => {};
const BeforeExitListener = {
  invoke: () => global[BEFORE_EXIT_SYMBOL](),
  reset: () => (global[BEFORE_EXIT_SYMBOL] = NO_OP_LISTENER),
  set: (listener) => (global[BEFORE_EXIT_SYMBOL] = listener),
};

/* ------------------------------------------------------------------------ */
/* Handler loading (UserFunction)                                            */
/* ------------------------------------------------------------------------ */

const FUNCTION_EXPR = /^([^.]*)\.(.*)$/;
const RELATIVE_PATH_SUBSTRING = '..';
const HANDLER_STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
const HANDLER_HIGHWATERMARK = Symbol.for('aws.lambda.runtime.handler.streaming.highWaterMark');
const STREAM_RESPONSE = 'response';
// Read when the function loads (a stem only learns its environment then).
const noGlobalAwsLambda = () =>
  process.env['AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA'] === '1' ||
  process.env['AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA'] === 'true';

function _moduleRootAndHandler(fullHandlerString) {
  const handlerString = path.basename(fullHandlerString);
  const moduleRoot = fullHandlerString.substring(0, fullHandlerString.indexOf(handlerString));
  return [moduleRoot, handlerString];
}

function _splitHandlerString(handler) {
  const match = handler.match(FUNCTION_EXPR);
  if (!match || match.length != 3) {
    throw new MalformedHandlerName('Bad handler');
  }
  return [match[1], match[2]];
}

function _resolveHandler(object, nestedProperty) {
  return nestedProperty.split('.').reduce((nested, key) => nested && nested[key], object);
}

function _tryRequireFile(file, extension) {
  const p = file + (extension || '');
  return fs.existsSync(p) ? require(p) : undefined;
}

async function _tryAwaitImport(file, extension) {
  const p = file + (extension || '');
  if (fs.existsSync(p)) {
    return await import(require('url').pathToFileURL(p).href);
  }
  return undefined;
}

function _hasFolderPackageJsonTypeModule(folder) {
  if (folder.endsWith('/node_modules')) {
    return false;
  }
  const pj = path.join(folder, '/package.json');
  if (fs.existsSync(pj)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(pj));
      if (pkg) {
        return pkg.type === 'module';
      }
    } catch (e) {
      console.warn(
        `${pj} cannot be read, it will be ignored for ES module detection purposes.`,
        e,
      );
      return false;
    }
  }
  if (folder === '/') {
    return false;
  }
  return _hasFolderPackageJsonTypeModule(path.resolve(folder, '..'));
}

function _runtimeSupportsTypeScript() {
  const major = parseInt((process.versions?.node || '0').split('.')[0], 10);
  return !Number.isNaN(major) && major >= 24;
}

async function _tryRequire(appRoot, moduleRoot, module) {
  const lambdaStylePath = path.resolve(appRoot, moduleRoot, module);
  const supportsTs = _runtimeSupportsTypeScript();

  // Extensionless files (and directories) are loaded via require.
  const extensionless = _tryRequireFile(lambdaStylePath);
  if (extensionless) {
    return extensionless;
  }

  // Unless the nearest package.json says "type": "module", .js is CommonJS.
  const pjHasModule = _hasFolderPackageJsonTypeModule(path.resolve(path.dirname(lambdaStylePath)));
  if (!pjHasModule) {
    const loaded = _tryRequireFile(lambdaStylePath, '.js');
    if (loaded) {
      return loaded;
    }
  }

  const loaded =
    (pjHasModule && (await _tryAwaitImport(lambdaStylePath, '.js'))) ||
    (await _tryAwaitImport(lambdaStylePath, '.mjs')) ||
    _tryRequireFile(lambdaStylePath, '.cjs') ||
    (supportsTs && !pjHasModule && _tryRequireFile(lambdaStylePath, '.ts')) ||
    (supportsTs && pjHasModule && (await _tryAwaitImport(lambdaStylePath, '.ts'))) ||
    (supportsTs && (await _tryAwaitImport(lambdaStylePath, '.mts'))) ||
    (supportsTs && _tryRequireFile(lambdaStylePath, '.cts'));
  if (loaded) {
    return loaded;
  }

  // Fall back to node's own resolution from the app root (node_modules etc.).
  const nodeStylePath = require.resolve(module, { paths: [appRoot, moduleRoot] });
  return require(nodeStylePath);
}

async function _loadUserApp(appRoot, moduleRoot, module) {
  if (!noGlobalAwsLambda()) {
    globalThis.awslambda = {
      streamifyResponse: (handler, options) => {
        handler[HANDLER_STREAMING] = STREAM_RESPONSE;
        if (typeof options?.highWaterMark === 'number') {
          handler[HANDLER_HIGHWATERMARK] = parseInt(options.highWaterMark);
        }
        return handler;
      },
      HttpResponseStream: HttpResponseStream,
    };
  }
  try {
    return await _tryRequire(appRoot, moduleRoot, module);
  } catch (e) {
    if (e instanceof SyntaxError) {
      throw new UserCodeSyntaxError(e);
    } else if (e.code !== undefined && e.code === 'MODULE_NOT_FOUND') {
      throw new ImportModuleError(e);
    } else {
      throw e;
    }
  }
}

async function loadUserFunction(appRoot, fullHandlerString) {
  if (fullHandlerString.includes(RELATIVE_PATH_SUBSTRING)) {
    throw new MalformedHandlerName(
      `'${fullHandlerString}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`,
    );
  }
  const [moduleRoot, moduleAndHandler] = _moduleRootAndHandler(fullHandlerString);
  const [module, handlerPath] = _splitHandlerString(moduleAndHandler);
  const userApp = await _loadUserApp(appRoot, moduleRoot, module);
  const handlerFunc = _resolveHandler(userApp, handlerPath);
  if (!handlerFunc) {
    throw new HandlerNotFound(`${fullHandlerString} is undefined or not exported`);
  }
  if (typeof handlerFunc !== 'function') {
    throw new HandlerNotFound(`${fullHandlerString} is not a function`);
  }
  return handlerFunc;
}

function _isHandlerStreaming(handler) {
  const v = handler[HANDLER_STREAMING];
  if (v === undefined || v === null || v === false) {
    return false;
  }
  if (v === STREAM_RESPONSE) {
    return STREAM_RESPONSE;
  }
  throw new MalformedStreamingHandler('Only response streaming is supported.');
}

function _highWaterMark(handler) {
  const v = handler[HANDLER_HIGHWATERMARK];
  if (v === undefined || v === null || v === false) {
    return undefined;
  }
  const hwm = parseInt(v);
  return isNaN(hwm) ? undefined : hwm;
}

function _isAsync(handler) {
  try {
    return (
      handler &&
      typeof handler === 'function' &&
      handler.constructor &&
      handler.constructor.name === 'AsyncFunction'
    );
  } catch (error) {
    return false;
  }
}

function getHandlerMetadata(handlerFunc) {
  return {
    streaming: _isHandlerStreaming(handlerFunc),
    highWaterMark: _highWaterMark(handlerFunc),
    isAsync: _isAsync(handlerFunc),
    argsNum: handlerFunc.length,
  };
}

/* ------------------------------------------------------------------------ */
/* Invoke context                                                            */
/* ------------------------------------------------------------------------ */

function _parseJson(jsonString, name) {
  if (jsonString !== undefined) {
    try {
      return JSON.parse(jsonString);
    } catch (err) {
      throw new Error(`Cannot parse ${name} as json: ${err.toString()}`);
    }
  }
  return undefined;
}

class InvokeContext {
  constructor(headers) {
    this.headers = headers; // RuntimeConnection lower-cases header names
  }

  get invokeId() {
    const id = this.headers['lambda-runtime-aws-request-id'];
    if (!id) {
      throw new Error('invocation id is missing or invalid');
    }
    return id;
  }

  get tenantId() {
    return this.headers['lambda-runtime-aws-tenant-id'];
  }

  updateLoggingContext() {
    setCurrentRequestId(this.invokeId);
    setCurrentTenantId(this.tenantId);
  }

  attachEnvironmentData(callbackContext) {
    const trace = this.headers['lambda-runtime-trace-id'];
    if (trace) {
      process.env['_X_AMZN_TRACE_ID'] = trace;
    } else {
      delete process.env['_X_AMZN_TRACE_ID'];
    }
    const deadline = Number(this.headers['lambda-runtime-deadline-ms']);
    return Object.assign(
      callbackContext,
      {
        functionVersion: process.env['AWS_LAMBDA_FUNCTION_VERSION'],
        functionName: process.env['AWS_LAMBDA_FUNCTION_NAME'],
        memoryLimitInMB: process.env['AWS_LAMBDA_FUNCTION_MEMORY_SIZE'],
        logGroupName: process.env['AWS_LAMBDA_LOG_GROUP_NAME'],
        logStreamName: process.env['AWS_LAMBDA_LOG_STREAM_NAME'],
      },
      {
        clientContext: _parseJson(this.headers['lambda-runtime-client-context'], 'ClientContext'),
        identity: _parseJson(this.headers['lambda-runtime-cognito-identity'], 'CognitoIdentity'),
        invokedFunctionArn: this.headers['lambda-runtime-invoked-function-arn'],
        awsRequestId: this.headers['lambda-runtime-aws-request-id'],
        tenantId: this.tenantId,
        getRemainingTimeInMillis: function () {
          return deadline - Date.now();
        },
      },
    );
  }
}

/* ------------------------------------------------------------------------ */
/* Callback context (callback / done / succeed / fail)                       */
/* ------------------------------------------------------------------------ */

function _rawCallbackContext(client, id, scheduleNext) {
  const postError = (err, callback) => {
    structuredConsole.logError('Invoke Error', err);
    client.postInvocationError(err, id, callback);
  };

  let isCompleteInvoked = false;
  const complete = (result, callback) => {
    if (isCompleteInvoked) {
      console.error(
        'Invocation has already been reported as done. Cannot call complete more than once per invocation.',
      );
      return;
    }
    isCompleteInvoked = true;
    client.postInvocationResponse(result, id, callback);
  };

  let waitForEmptyEventLoop = true;

  const callback = function (err, result) {
    BeforeExitListener.reset();
    if (err !== undefined && err !== null) {
      postError(err, scheduleNext);
    } else if (!waitForEmptyEventLoop) {
      complete(result, scheduleNext);
    } else {
      // Respond only once the event loop has drained, like AWS.
      BeforeExitListener.set(() => {
        setImmediate(() => {
          complete(result, scheduleNext);
        });
      });
    }
  };

  const done = (err, result) => {
    BeforeExitListener.reset();
    if (err !== undefined && err !== null) {
      postError(err, scheduleNext);
    } else {
      complete(result, scheduleNext);
    }
  };
  const succeed = (result) => {
    done(null, result);
  };
  const fail = (err) => {
    if (err === undefined || err === null) {
      done('handled');
    } else {
      done(err, null);
    }
  };

  const callbackContext = {
    get callbackWaitsForEmptyEventLoop() {
      return waitForEmptyEventLoop;
    },
    set callbackWaitsForEmptyEventLoop(value) {
      waitForEmptyEventLoop = value;
    },
    succeed: succeed,
    fail: fail,
    done: done,
  };

  return [
    callback,
    callbackContext,
    function () {
      isCompleteInvoked = true;
    },
  ];
}

function _wrappedCallbackContext(callback, callbackContext, markCompleted) {
  let finished = false;
  const onlyAllowFirstCall = function (toWrap) {
    return function () {
      if (!finished) {
        toWrap.apply(null, arguments);
        finished = true;
      }
    };
  };
  callbackContext.succeed = onlyAllowFirstCall(callbackContext.succeed);
  callbackContext.fail = onlyAllowFirstCall(callbackContext.fail);
  callbackContext.done = onlyAllowFirstCall(callbackContext.done);
  return [onlyAllowFirstCall(callback), callbackContext, markCompleted];
}

function buildCallbackContext(client, id, scheduleNext) {
  return _wrappedCallbackContext(..._rawCallbackContext(client, id, scheduleNext));
}

/* ------------------------------------------------------------------------ */
/* Response streaming                                                        */
/* ------------------------------------------------------------------------ */

const HTTP_INTEGRATION_CONTENT_TYPE = 'application/vnd.awslambda.http-integration-response';
const DEFAULT_STREAM_CONTENT_TYPE = 'application/octet-stream';

class HttpResponseStream {
  static from(underlyingStream, prelude) {
    underlyingStream.setContentType(HTTP_INTEGRATION_CONTENT_TYPE);
    const metadataPrelude = JSON.stringify(prelude);
    underlyingStream._onBeforeFirstWrite = (write) => {
      write(metadataPrelude);
      write(new Uint8Array(8)); // 8 NUL bytes separate the prelude from the body
    };
    return underlyingStream;
  }
}

function _createResponseStream(client, id, options) {
  const { Writable } = require('stream');
  let contentType = DEFAULT_STREAM_CONTENT_TYPE;
  let req = null;
  let started = false;
  let responseResolve;
  let responseReject;
  const responseDone = new Promise((resolve, reject) => {
    responseResolve = resolve;
    responseReject = reject;
  });

  const ensureRequest = () => {
    if (req) return req;
    req = client.streamingRequest(id, contentType);
    req.on('response', (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        if (res.statusCode < 200 || res.statusCode >= 300) {
          process.stderr.write(
            `lambent runtime: streaming response failed: HTTP ${res.statusCode} ${Buffer.concat(chunks)}\n`,
          );
        }
        responseResolve(res.statusCode);
      });
    });
    req.on('error', (err) => responseReject(err));
    return req;
  };

  const stream = new Writable({
    highWaterMark: options?.highWaterMark,
    write(chunk, encoding, cb) {
      const r = ensureRequest();
      if (!started) {
        started = true;
        if (typeof stream._onBeforeFirstWrite === 'function') {
          stream._onBeforeFirstWrite((c) => r.write(c));
        }
      }
      r.write(chunk, encoding, cb);
    },
    final(cb) {
      const r = ensureRequest();
      if (!started) {
        started = true;
        if (typeof stream._onBeforeFirstWrite === 'function') {
          stream._onBeforeFirstWrite((c) => r.write(c));
        }
      }
      r.end(cb);
    },
  });
  stream.setContentType = (ct) => {
    if (req) {
      throw new InvalidStreamingOperation('Cannot set content-type, too late.');
    }
    contentType = ct;
  };

  // Fail the stream: an error before any byte is a plain /error post; after
  // bytes went out it travels in the trailers, as the Runtime API specifies.
  const fail = (err, callback) => {
    const error = intoError(err);
    structuredConsole.logError('Invoke Error', error);
    if (!req || !started) {
      if (req) req.destroy();
      client.postInvocationError(error, id, callback);
      return;
    }
    const payload = toRapidResponse(error);
    req.addTrailers({
      'Lambda-Runtime-Function-Error-Type': _headerValue(payload.errorType),
      'Lambda-Runtime-Function-Error-Body': Buffer.from(JSON.stringify(payload)).toString('base64'),
    });
    req.end();
    responseDone.then(
      () => callback && callback(),
      () => callback && callback(),
    );
  };

  return { stream, responseDone, fail, started: () => started || !!req };
}

/* ------------------------------------------------------------------------ */
/* Runtime loop                                                              */
/* ------------------------------------------------------------------------ */

function _isPromise(obj) {
  return obj && obj.then && typeof obj.then === 'function';
}

class Runtime {
  constructor(client, handler, handlerMetadata, errorCallbacks) {
    this.client = client;
    this.handler = handler;
    this.handlerMetadata = handlerMetadata;
    this.errorCallbacks = errorCallbacks;
    this.handleOnce =
      handlerMetadata.streaming === STREAM_RESPONSE
        ? this.handleOnceStreaming
        : this.handleOnceNonStreaming;
  }

  scheduleIteration() {
    setImmediate(() => {
      this.handleOnce().then(
        () => {},
        (err) => {
          console.log(`Unexpected Top Level Error: ${err.toString()}`);
          this.errorCallbacks.uncaughtException(err);
        },
      );
    });
  }

  async handleOnceNonStreaming() {
    const { bodyJson, headers } = await this.client.nextInvocation();
    const invokeContext = new InvokeContext(headers);
    invokeContext.updateLoggingContext();

    const [callback, callbackContext, markCompleted] = buildCallbackContext(
      this.client,
      invokeContext.invokeId,
      this.scheduleIteration.bind(this),
    );

    try {
      this._setErrorCallbacks(invokeContext.invokeId);
      this._setDefaultExitListener(invokeContext.invokeId, markCompleted, this.handlerMetadata.isAsync);

      const result = this.handler(
        JSON.parse(bodyJson),
        invokeContext.attachEnvironmentData(callbackContext),
        callback,
      );

      if (_isPromise(result)) {
        result.then(callbackContext.succeed, callbackContext.fail).catch(callbackContext.fail);
      }
    } catch (err) {
      callback(err);
    }
  }

  async handleOnceStreaming() {
    const { bodyJson, headers } = await this.client.nextInvocation();
    const invokeContext = new InvokeContext(headers);
    invokeContext.updateLoggingContext();
    const id = invokeContext.invokeId;
    const scheduleNext = this.scheduleIteration.bind(this);
    const hwm = this.handlerMetadata.highWaterMark;
    const { stream, responseDone, fail } = _createResponseStream(
      this.client,
      id,
      hwm ? { highWaterMark: hwm } : undefined,
    );
    let failed = false;
    const ctxFail = (err) => {
      if (failed) return;
      failed = true;
      fail(err, scheduleNext);
    };

    try {
      this._setErrorCallbacks(id);
      BeforeExitListener.set(() => {
        this.scheduleIteration();
      });
      const ctx = invokeContext.attachEnvironmentData({
        callbackWaitsForEmptyEventLoop: false,
      });
      const event = JSON.parse(bodyJson);
      const handlerResult = this.handler(event, stream, ctx);
      if (!_isPromise(handlerResult)) {
        ctxFail('Streaming does not support non-async handlers.');
        return;
      }
      const result = await handlerResult;
      if (typeof result !== 'undefined') {
        console.warn('Streaming handlers ignore return values.');
      }
      if (!stream.writableFinished) {
        if (!stream.writableEnded) {
          ctxFail('Response stream is not finished.');
          return;
        }
        await new Promise((resolve) => stream.once('finish', resolve));
      }
      await responseDone;
      BeforeExitListener.reset();
      scheduleNext();
    } catch (err) {
      ctxFail(err);
    }
  }

  _setErrorCallbacks(invokeId) {
    this.errorCallbacks.uncaughtException = (error) => {
      this.client.postInvocationError(error, invokeId, () => {
        process.exit(129);
      });
    };
    this.errorCallbacks.unhandledRejection = (error) => {
      this.client.postInvocationError(error, invokeId, () => {
        process.exit(128);
      });
    };
  }

  /**
   * If the event loop drains before the handler reported anything: a sync or
   * callback-style handler succeeds with null, an async one fails with
   * Runtime.NodeJsExit (its promise can never settle).
   */
  _setDefaultExitListener(invokeId, markCompleted, isAsync) {
    BeforeExitListener.set(() => {
      markCompleted();
      if (isAsync) {
        const nodeJsExitError = new NodeJsExit();
        structuredConsole.logError('Invoke Error', nodeJsExitError);
        this.client.postInvocationError(nodeJsExitError, invokeId, () => this.scheduleIteration());
      } else {
        this.client.postInvocationResponse(null, invokeId, () => this.scheduleIteration());
      }
    });
  }
}

/* ------------------------------------------------------------------------ */
/* Main                                                                      */
/* ------------------------------------------------------------------------ */

function main() {
  patchConsole();
  const client = new RAPIDClient(process.env.AWS_LAMBDA_RUNTIME_API || '127.0.0.1:9001');

  const errorCallbacks = {
    uncaughtException: (error) => {
      client.postInitError(error, () => process.exit(129));
    },
    unhandledRejection: (error) => {
      client.postInitError(error, () => process.exit(128));
    },
  };

  // Posting is asynchronous here (AWS's native client blocks), so errors that
  // arrive while the first fatal one is being reported are only logged.
  let fatal = false;
  const reportFatal = (kind, error) => {
    if (fatal) return;
    fatal = true;
    errorCallbacks[kind](error);
  };

  process.on('uncaughtException', (error) => {
    if (!_stdioGuarded) _guardStdio();
    structuredConsole.logError('Uncaught Exception', error);
    reportFatal('uncaughtException', error);
  });

  process.on('unhandledRejection', (reason, promise) => {
    const error = new UnhandledPromiseRejection(reason, promise);
    structuredConsole.logError('Unhandled Promise Rejection', error);
    reportFatal('unhandledRejection', error);
  });

  BeforeExitListener.reset();
  process.on('beforeExit', BeforeExitListener.invoke);

  const appRoot = process.env.LAMBDA_TASK_ROOT || process.cwd();
  const handlerString = process.argv[2] || process.env._HANDLER || '';

  loadUserFunction(appRoot, handlerString)
    .then((handlerFunc) => {
      const metadata = getHandlerMetadata(handlerFunc);
      new Runtime(client, handlerFunc, metadata, errorCallbacks).scheduleIteration();
    })
    .catch((error) => {
      // On AWS a failed load surfaces as an uncaught exception of the runtime.
      structuredConsole.logError('Uncaught Exception', error);
      reportFatal('uncaughtException', error);
    });
}

/**
 * Run as a stem (an environment started before its function is known): wait on
 * the descriptor named by _LAMBENT_STEM for the assignment lambent sends once
 * the function's code is mounted: the working directory, a program name
 * (unused here), then the function's environment, each NUL-terminated, then end
 * of file. It replaces this process's environment.
 */
function applyStemAssignment(fd) {
  const entries = fs.readFileSync(fd).toString('utf8').split('\0');
  fs.closeSync(fd);
  if (entries.length < 3) process.exit(0); // let go unassigned
  for (const key of Object.keys(process.env)) delete process.env[key];
  for (const entry of entries.slice(2)) {
    const eq = entry.indexOf('=');
    if (eq > 0) process.env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  process.chdir(entries[0]);
}

if (process.env._LAMBENT_STEM) applyStemAssignment(Number(process.env._LAMBENT_STEM));
main();
