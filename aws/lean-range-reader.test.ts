/**
 * The lean slice read, against a request handler that records each request and answers as
 * S3 would: the request goes to the endpoint the SDK's rules give the bucket (virtual-hosted
 * on AWS, path-style when forced), carries the range, and its SigV4 signature verifies
 * under a verifier written here from the published algorithm (node:crypto, not the SDK's
 * signer); errors come back as the SDK's own exceptions, retried or not as the SDK would.
 */
import { createHash, createHmac } from 'node:crypto';
import { Readable } from 'node:stream';
import { NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import { HttpResponse, type HttpRequest } from '@smithy/core/transport';
import { describe, expect, it } from 'vitest';
import { keyPath, leanRangeReader, replayHandler } from './lean-range-reader.js';

const CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };

type Answer = (request: HttpRequest, n: number) => HttpResponse;

/** A client whose handler records every request and answers with `answer`. */
function recordingClient(config: Record<string, unknown>, answer: Answer): { client: S3Client; decoder: S3Client; seen: HttpRequest[] } {
  const seen: HttpRequest[] = [];
  const handler = {
    handle: async (request: HttpRequest) => {
      seen.push(request);
      return { response: answer(request, seen.length - 1) };
    },
    updateHttpClientConfig: () => undefined,
    httpHandlerConfigs: () => ({}),
  };
  const common = { credentials: CREDENTIALS, ...config };
  return {
    client: new S3Client({ ...common, requestHandler: handler }),
    decoder: new S3Client({ ...common, maxAttempts: 1, requestHandler: replayHandler }),
    seen,
  };
}

const ok = (text: string) => new HttpResponse({ statusCode: 206, headers: {}, body: Readable.from([Buffer.from(text)]) });
const xmlError = (statusCode: number, code: string) =>
  new HttpResponse({
    statusCode,
    headers: { 'content-type': 'application/xml', 'x-amz-request-id': 'REQ1' },
    body: Readable.from([Buffer.from(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>m</Message></Error>`)]),
  });

async function text(body: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

const noFallback = async (): Promise<Readable> => {
  throw new Error('the lean path fell back to the SDK client');
};

function header(request: HttpRequest, name: string): string | undefined {
  const found = Object.entries(request.headers).find(([k]) => k.toLowerCase() === name);
  return found?.[1];
}

/** SigV4 as AWS publishes it (S3: the path is not encoded again), checked against the request's Authorization. */
function verifySigV4(request: HttpRequest, secret: string): { scope: string; signedHeaders: string[]; valid: boolean } {
  const auth = header(request, 'authorization') ?? '';
  const m = /^AWS4-HMAC-SHA256 Credential=[^/]+\/([^,]+), SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) throw new Error(`not a SigV4 Authorization header: ${auth}`);
  const [, scope, signed, signature] = m as unknown as [string, string, string, string];
  const signedHeaders = signed.split(';');
  const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const query = Object.entries(request.query ?? {})
    .map(([k, v]) => `${enc(k)}=${enc(String(v))}`)
    .sort()
    .join('&');
  const canonical = [
    request.method,
    request.path,
    query,
    signedHeaders.map((h) => `${h}:${(header(request, h) ?? '').trim().replace(/\s+/g, ' ')}\n`).join(''),
    signed,
    header(request, 'x-amz-content-sha256'),
  ].join('\n');
  const sha = (s: string) => createHash('sha256').update(s).digest('hex');
  const stringToSign = ['AWS4-HMAC-SHA256', header(request, 'x-amz-date'), scope, sha(canonical)].join('\n');
  const [date, region, service] = scope.split('/') as [string, string, string];
  let key: Buffer = Buffer.from(`AWS4${secret}`);
  for (const part of [date, region, service, 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
  return { scope, signedHeaders, valid: createHmac('sha256', key).update(stringToSign).digest('hex') === signature };
}

describe('leanRangeReader: the signed request', () => {
  it('on AWS, goes to the bucket virtual-hosted, with the range, signed for the region', async () => {
    // The SDK's endpoint rules honour AWS_ENDPOINT_URL (set when emulator tests run alongside): ignored here to get AWS's.
    const { client, decoder, seen } = recordingClient({ region: 'eu-west-1', ignoreConfiguredEndpointUrls: true }, () => ok('hello'));
    const read = leanRangeReader('my-bucket', { client, decoder, fallback: noFallback });
    expect(await text(await read('tmp/job 1/m-00007', 5, 10))).toBe('hello');
    const [r] = seen;
    expect(r!.hostname).toBe('my-bucket.s3.eu-west-1.amazonaws.com');
    expect(header(r!, 'host')).toBe('my-bucket.s3.eu-west-1.amazonaws.com');
    expect(r!.path).toBe('/tmp/job%201/m-00007');
    expect(header(r!, 'range')).toBe('bytes=5-9');
    const sig = verifySigV4(r!, CREDENTIALS.secretAccessKey);
    expect(sig.valid).toBe(true);
    expect(sig.scope).toMatch(/^\d{8}\/eu-west-1\/s3\/aws4_request$/);
    expect(sig.signedHeaders).toEqual(expect.arrayContaining(['host', 'range', 'x-amz-content-sha256', 'x-amz-date']));
    // A tampered range no longer verifies: the signature covers it.
    r!.headers.range = 'bytes=0-9';
    expect(verifySigV4(r!, CREDENTIALS.secretAccessKey).valid).toBe(false);
  });

  it('path-style on an emulator endpoint (forcePathStyle), port in the host', async () => {
    const { client, decoder, seen } = recordingClient(
      { region: 'us-east-1', endpoint: 'http://127.0.0.1:4999', forcePathStyle: true },
      () => ok('x'),
    );
    const read = leanRangeReader('bkt', { client, decoder, fallback: noFallback });
    await text(await read('a/b', 0, 1));
    await text(await read('a/c', 7, 100));
    expect(seen.map((r) => [r.hostname, r.port, header(r, 'host'), r.path, header(r, 'range')])).toEqual([
      ['127.0.0.1', 4999, '127.0.0.1:4999', '/bkt/a/b', 'bytes=0-0'],
      ['127.0.0.1', 4999, '127.0.0.1:4999', '/bkt/a/c', 'bytes=7-99'],
    ]);
    expect(seen.every((r) => verifySigV4(r, CREDENTIALS.secretAccessKey).valid)).toBe(true);
  });

  it('encodes a key as the SDK does (a greedy label)', () => {
    expect(keyPath('', "a b/c+d/é!'()*")).toBe('/a%20b/c%2Bd/%C3%A9%21%27%28%29%2A');
    expect(keyPath('/bkt', 'k')).toBe('/bkt/k');
  });
});

describe('leanRangeReader: errors and retries', () => {
  it('NoSuchKey is the SDK exception, not retried', async () => {
    const { client, decoder, seen } = recordingClient({ region: 'us-east-1', maxAttempts: 3 }, () => xmlError(404, 'NoSuchKey'));
    const err = (await leanRangeReader('b', { client, decoder, fallback: noFallback })('k', 0, 1).catch((e: unknown) => e)) as NoSuchKey;
    expect(err).toBeInstanceOf(NoSuchKey);
    expect(err.name).toBe('NoSuchKey');
    expect(err.$metadata).toMatchObject({ httpStatusCode: 404, requestId: 'REQ1', attempts: 1 });
    expect(seen).toHaveLength(1);
  });

  it('retries throttling (503 SlowDown) with the client’s strategy, then reads', async () => {
    const { client, decoder, seen } = recordingClient({ region: 'us-east-1', maxAttempts: 3 }, (_r, n) =>
      n < 2 ? xmlError(503, 'SlowDown') : ok('fine'),
    );
    expect(await text(await leanRangeReader('b', { client, decoder, fallback: noFallback })('k', 0, 4))).toBe('fine');
    expect(seen).toHaveLength(3);
  });

  it('takes the clock offset from a skew error and signs the retry with it', async () => {
    const serverNow = Date.now() + 3600_000;
    const { client, decoder, seen } = recordingClient({ region: 'us-east-1', maxAttempts: 3 }, (_r, n) => {
      if (n > 0) return ok('in time');
      const skew = xmlError(403, 'RequestTimeTooSkewed');
      skew.headers.date = new Date(serverNow).toUTCString();
      return skew;
    });
    expect(await text(await leanRangeReader('b', { client, decoder, fallback: noFallback })('k', 0, 7))).toBe('in time');
    expect(seen).toHaveLength(2);
    const signedAt = (r: HttpRequest) => Date.parse(header(r, 'x-amz-date')!.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, '$1-$2-$3T$4:$5:$6Z'));
    expect(Math.abs(signedAt(seen[1]!) - serverNow)).toBeLessThan(60_000);
    expect(client.config.systemClockOffset).toBeGreaterThan(3500_000);
  });

  it('ends in the SDK error after maxAttempts, and retries a network error', async () => {
    const { client, decoder, seen } = recordingClient({ region: 'us-east-1', maxAttempts: 2 }, () => xmlError(500, 'InternalError'));
    const err = (await leanRangeReader('b', { client, decoder, fallback: noFallback })('k', 0, 1).catch((e: unknown) => e)) as Error & {
      $metadata: { attempts: number };
    };
    expect(err.name).toBe('InternalError');
    expect(err.$metadata.attempts).toBe(2);
    expect(seen).toHaveLength(2);

    const reset = recordingClient({ region: 'us-east-1', maxAttempts: 3 }, (_r, n) => {
      if (n === 0) throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
      return ok('after reset');
    });
    const read = leanRangeReader('b', { client: reset.client, decoder: reset.decoder, fallback: noFallback });
    expect(await text(await read('k', 0, 11))).toBe('after reset');
    expect(reset.seen).toHaveLength(2);
  });
});
