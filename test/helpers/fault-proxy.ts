/**
 * A fault-injecting HTTP proxy between SDK clients and the emulator (issue 17), on
 * 127.0.0.1 only. Per request, drawn from a seeded generator, it answers an AWS error of
 * the request's service, delays the request, resets the connection before the response
 * (after the emulator applied the request: a lost answer) or in the middle of its body, or
 * black-holes it (never answers, so the client's socket timeout must fire). It stops by
 * itself after `maxLifetimeMs`, and counts every fault it injected.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { Socket } from 'node:net';
import { mulberry32 } from '../../core/prng.js';

/** The service a request is for, as the proxy tells it from the request alone. */
export type AwsService = 's3' | 'dynamodb' | 'sqs';

/** Per-request probabilities (0..1) of each fault; at most one fault per request. */
export interface FaultRates {
  /** An AWS error answer (5xx, or DynamoDB's 400 throttling). */
  readonly error: number;
  /** A delay of 200–3000 ms before the request is forwarded. */
  readonly latency: number;
  /** The request is forwarded and applied, then the connection is reset before any answer. */
  readonly resetBefore: number;
  /** The answer's headers and half its body are sent, then the connection is reset. */
  readonly resetMidBody: number;
  /** The request is never answered (the connection stays open until the client gives up). */
  readonly blackhole: number;
}

export type FaultKind = keyof FaultRates;

export const NO_FAULTS: FaultRates = { error: 0, latency: 0, resetBefore: 0, resetMidBody: 0, blackhole: 0 };

export interface FaultProxyOptions {
  /** Where requests go, e.g. the emulator's `http://127.0.0.1:4566`. */
  readonly target: string;
  readonly rates?: Partial<FaultRates>;
  readonly seed?: number;
  /** 0 picks a free port. */
  readonly port?: number;
  /** The proxy closes itself after this long (default 10 minutes). */
  readonly maxLifetimeMs?: number;
  /** Latency spike range, default [200, 3000] ms. */
  readonly latencyMs?: readonly [number, number];
}

export type FaultCounts = Record<FaultKind, number> & { requests: number; forwarded: number; outage: number };

/**
 * A deterministic fault: the next `times` requests whose X-Amz-Target is `target` and whose
 * body contains `bodyIncludes` get `fault` (checked before the random draw). `hits` counts
 * the requests it hit.
 */
export interface FaultRule {
  readonly target: string;
  readonly bodyIncludes: string;
  readonly fault: 'resetBefore' | 'resetMidBody' | 'blackhole';
  times: number;
  hits: number;
}

interface Outage {
  readonly service: AwsService;
  readonly until: number;
}

/** Detects the service: DynamoDB and SQS name themselves in X-Amz-Target; SQS query bodies carry Action=. */
export function serviceOf(headers: http.IncomingHttpHeaders, body: Buffer): AwsService {
  const target = String(headers['x-amz-target'] ?? '');
  if (target.startsWith('DynamoDB_')) return 'dynamodb';
  if (target.startsWith('AmazonSQS')) return 'sqs';
  const type = String(headers['content-type'] ?? '');
  if (type.startsWith('application/x-www-form-urlencoded') && /(^|&)Action=/.test(body.toString('latin1'))) return 'sqs';
  return 's3';
}

interface ErrorAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/**
 * The error AWS answers when it throttles or fails, per service and protocol. DynamoDB's
 * throttling errors are 400s on AWS (the SDK retries them by their code), so they stay 400.
 */
export function errorAnswer(service: AwsService, pick: number, jsonSqs: boolean): ErrorAnswer {
  const requestId = randomBytes(8).toString('hex').toUpperCase();
  if (service === 's3') {
    const [status, code, message] = pick < 0.5 ? [503, 'SlowDown', 'Please reduce your request rate.'] : [500, 'InternalError', 'We encountered an internal error. Please try again.'];
    return {
      status,
      headers: { 'content-type': 'application/xml', 'x-amz-request-id': requestId },
      body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>${requestId}</RequestId></Error>`,
    };
  }
  if (service === 'dynamodb') {
    const code = pick < 0.5 ? 'ProvisionedThroughputExceededException' : 'ThrottlingException';
    return {
      status: 400,
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-errortype': code, 'x-amzn-requestid': requestId },
      body: JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${code}`, message: 'Rate of requests exceeds the allowed throughput.' }),
    };
  }
  const message = 'The request has failed due to a temporary failure of the server.';
  return jsonSqs
    ? {
        status: 503,
        headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-query-error': 'ServiceUnavailable;Receiver', 'x-amzn-requestid': requestId },
        body: JSON.stringify({ __type: 'com.amazonaws.sqs#ServiceUnavailable', message }),
      }
    : {
        status: 503,
        headers: { 'content-type': 'text/xml' },
        body: `<?xml version="1.0"?><ErrorResponse><Error><Type>Receiver</Type><Code>ServiceUnavailable</Code><Message>${message}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
      };
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** A TCP reset where the runtime has it (the client sees ECONNRESET), else a plain close. */
function reset(socket: Socket): void {
  if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
  else socket.destroy();
}

export class FaultProxy {
  readonly counts: FaultCounts = { ...NO_FAULTS, requests: 0, forwarded: 0, outage: 0 };
  private rates: FaultRates;
  private readonly random: () => number;
  private readonly sockets = new Set<Socket>();
  private readonly agent = new http.Agent({ keepAlive: true });
  private outage: Outage | undefined;
  private readonly rules: FaultRule[] = [];
  private closed = false;
  private readonly lifetime: NodeJS.Timeout;

  private constructor(
    private readonly server: http.Server,
    private readonly o: FaultProxyOptions,
    readonly port: number,
  ) {
    this.rates = { ...NO_FAULTS, ...o.rates };
    this.random = mulberry32(o.seed ?? 1);
    this.lifetime = setTimeout(() => void this.close(), o.maxLifetimeMs ?? 600_000);
    this.lifetime.unref();
  }

  /** Start listening on 127.0.0.1 (a free port unless `port` is given). */
  static async start(o: FaultProxyOptions): Promise<FaultProxy> {
    const server = http.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.port ?? 0, '127.0.0.1', resolve);
    });
    const proxy = new FaultProxy(server, o, (server.address() as { port: number }).port);
    server.on('connection', (s: Socket) => {
      proxy.sockets.add(s);
      s.on('close', () => proxy.sockets.delete(s));
    });
    server.on('request', (req, res) => void proxy.handle(req, res));
    return proxy;
  }

  /** The endpoint clients use instead of the target's. */
  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Change the rates from now on (e.g. heal with NO_FAULTS). */
  setRates(rates: Partial<FaultRates>): void {
    this.rates = { ...NO_FAULTS, ...rates };
  }

  /** Every request of `service` gets its throttling error for `ms`, then the proxy heals. */
  failAll(service: AwsService, ms: number): void {
    this.outage = { service, until: Date.now() + ms };
  }

  /** Inject `fault` into the next `times` matching requests; the returned rule counts its hits. */
  addRule(r: Omit<FaultRule, 'hits'>): FaultRule {
    const rule: FaultRule = { ...r, hits: 0 };
    this.rules.push(rule);
    return rule;
  }

  private ruleFor(headers: http.IncomingHttpHeaders, body: Buffer): FaultKind | undefined {
    const target = String(headers['x-amz-target'] ?? '');
    const rule = this.rules.find((r) => r.times > 0 && r.target === target && body.includes(r.bodyIncludes));
    if (!rule) return undefined;
    rule.times--;
    rule.hits++;
    return rule.fault;
  }

  /** Stop listening and drop every open connection (black-holed ones included). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.lifetime);
    const done = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    this.agent.destroy();
    await done;
  }

  private draw(): FaultKind | undefined {
    let u = this.random();
    for (const kind of ['blackhole', 'error', 'resetBefore', 'resetMidBody', 'latency'] as const) {
      if (u < this.rates[kind]) return kind;
      u -= this.rates[kind];
    }
    return undefined;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    try {
      const body = await readBody(req);
      this.counts.requests++;
      const service = serviceOf(req.headers, body);
      const jsonSqs = req.headers['x-amz-target'] !== undefined;
      if (this.outage && Date.now() < this.outage.until && this.outage.service === service) {
        this.counts.outage++;
        const e = errorAnswer(service, 0, jsonSqs);
        res.writeHead(e.status, e.headers).end(e.body);
        return;
      }
      const fault = this.ruleFor(req.headers, body) ?? this.draw();
      if (fault) this.counts[fault]++;
      if (fault === 'blackhole') return; // never answered; closed by the client or by close()
      if (fault === 'error') {
        const e = errorAnswer(service, this.random(), jsonSqs);
        res.writeHead(e.status, e.headers).end(e.body);
        return;
      }
      if (fault === 'latency') {
        const [lo, hi] = this.o.latencyMs ?? [200, 3000];
        await new Promise((r) => setTimeout(r, lo + this.random() * (hi - lo)));
      }
      const up = await this.forward(req, body);
      this.counts.forwarded++;
      if (fault === 'resetBefore' || (fault === 'resetMidBody' && up.body.length < 2)) {
        reset(req.socket);
        return;
      }
      const headers = { ...up.headers };
      if (req.method !== 'HEAD') {
        delete headers['transfer-encoding'];
        headers['content-length'] = String(up.body.length);
      }
      res.writeHead(up.status, headers);
      if (fault === 'resetMidBody') {
        res.write(up.body.subarray(0, Math.floor(up.body.length / 2)), () => reset(req.socket));
        return;
      }
      res.end(up.body);
    } catch {
      // The target is gone or the client left: drop the connection, as a network would.
      reset(req.socket);
    }
  }

  private forward(req: http.IncomingMessage, body: Buffer): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
    const target = new URL(this.o.target);
    const headers = { ...req.headers };
    if (headers['transfer-encoding']) {
      delete headers['transfer-encoding'];
      headers['content-length'] = String(body.length);
    }
    return new Promise((resolve, reject) => {
      const out = http.request(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers, agent: this.agent },
        (up) => {
          readBody(up).then((b) => resolve({ status: up.statusCode ?? 502, headers: up.headers, body: b }), reject);
        },
      );
      out.on('error', reject);
      out.end(body);
    });
  }
}
