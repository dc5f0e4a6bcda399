/**
 * Ranged GETs of one bucket's objects without the SDK's per-request middleware stack: the
 * reduce's slice fetch makes thousands of tiny GETs, and resolving the stack per request
 * (endpoint resolution, serializer, auth scheme selection, retry and deserializer
 * middlewares) was most of their CPU and of the garbage they promote into the old
 * generation (docs/performance.md, `scale_curve`, session 14).
 *
 * What stays the SDK's: the endpoint (resolved once per bucket by the client's own endpoint
 * rules, `getEndpointFromInstructions`: virtual-hosted on AWS, path-style on an emulator or
 * with `forcePathStyle`), the signature (`@smithy/signature-v4` with the client's credential
 * provider, sha256, clock offset and the endpoint's signing region and name), the transport
 * (the client's own `requestHandler`: the same sockets, timeouts, and `closeIdleS3Sockets`),
 * the retries (the client's retry strategy: its attempts, backoff with jitter and retry
 * quota, errors classified by the SDK's own rules) and the errors: an error response is
 * decoded by a GetObject sent through an S3 client whose handler replays that response, so
 * NoSuchKey, SlowDown or AccessDenied arrive as the same exception classes, names and
 * `$metadata` the SDK's GetObject throws.
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getEndpointFromInstructions } from '@smithy/core/endpoints';
import { extendedEncodeURIComponent } from '@smithy/core/protocols';
import { isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';
import { HttpRequest, type HttpResponse } from '@smithy/core/transport';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Readable } from 'node:stream';

/** Bytes [start, endExclusive) of object `key`, as a stream. */
export type RangeRead = (key: string, start: number, endExclusive: number) => Promise<Readable>;

/** What a lean reader uses of the SDK. */
export interface LeanReaderParts {
  /** The general S3 client: its configuration and request handler. */
  readonly client: S3Client;
  /** An S3 client built on `replayHandler`, retries off: decodes an error response. */
  readonly decoder: S3Client;
  /** Used instead when the bucket's endpoint needs other than plain SigV4 (S3 Express, MRAP). */
  readonly fallback: RangeRead;
  /** Called once per read, before its first attempt (the call log and request counter). */
  readonly onRead?: (input: { Bucket: string; Key: string; Range: string }) => void;
}

const REPLAY = 'mapreduceReplayResponse';

/**
 * A request handler that answers with the response handed to `send` in its options
 * (`{ [REPLAY]: response }`): the decoder client's, so the SDK deserializes a response that
 * the lean path already received.
 */
export const replayHandler = {
  handle: async (_request: unknown, options?: Record<string, unknown>): Promise<{ response: HttpResponse }> => {
    const response = options?.[REPLAY] as HttpResponse | undefined;
    if (!response) throw new Error('The replay handler was given no response to replay.');
    return { response };
  },
  updateHttpClientConfig: () => undefined,
  httpHandlerConfigs: () => ({}),
};

interface BucketTarget {
  readonly protocol: string;
  readonly hostname: string;
  readonly port: number | undefined;
  readonly host: string;
  /** The endpoint's path without a trailing slash: '' virtual-hosted, '/bucket' path-style. */
  readonly basePath: string;
  readonly headers: Record<string, string>;
  readonly signer: SignatureV4;
}

interface SigV4Scheme {
  readonly name?: string;
  readonly signingName?: string;
  readonly signingRegion?: string;
}

/** An error as the SDK's classifiers and retry middleware see it. */
type SdkErrorShape = Parameters<typeof isServerError>[0] & { $metadata?: { attempts?: number; totalRetryDelay?: number } };

/** The object key as the SDK's serializer puts it in the path (a greedy label). */
export function keyPath(basePath: string, key: string): string {
  return `${basePath}/${key.split('/').map(extendedEncodeURIComponent).join('/')}`;
}

/**
 * A reader of ranged GETs of `bucket` through the lean path. The endpoint and signer are
 * resolved on the first read and kept; a bucket whose endpoint asks for another auth scheme
 * than SigV4 is read through `fallback`.
 */
export function leanRangeReader(bucket: string, parts: LeanReaderParts): RangeRead {
  let target: Promise<BucketTarget | undefined> | undefined;
  const config = parts.client.config;
  return async (key, start, endExclusive) => {
    target ??= resolveTarget(bucket, parts.client).catch((err: unknown) => {
      target = undefined; // resolve again next time (a credential or config error is the caller's)
      throw err;
    });
    const t = await target;
    if (!t) return parts.fallback(key, start, endExclusive);
    const range = `bytes=${start}-${endExclusive - 1}`;
    parts.onRead?.({ Bucket: bucket, Key: key, Range: range });
    const strategy = await config.retryStrategy();
    if (!('acquireInitialRetryToken' in strategy)) return parts.fallback(key, start, endExclusive);
    let token = await strategy.acquireInitialRetryToken('');
    let attempts = 0;
    let totalRetryDelay = 0;
    for (;;) {
      let error: SdkErrorShape;
      try {
        const response = await send(t, config, key, range);
        if (response.statusCode < 300) {
          strategy.recordSuccess(token);
          return response.body as Readable;
        }
        error = await decodeError(parts.decoder, response, { Bucket: bucket, Key: key, Range: range });
        // A skew the decoder's signer corrected (RequestTimeTooSkewed and the like) is the
        // client's clock offset from now on, as when the SDK's own request saw it.
        if ((error.$metadata as { clockSkewCorrected?: boolean } | undefined)?.clockSkewCorrected) {
          config.systemClockOffset = parts.decoder.config.systemClockOffset;
        }
      } catch (err) {
        error = (err instanceof Error ? err : new Error(String(err))) as SdkErrorShape;
      }
      try {
        token = await strategy.refreshRetryTokenForRetry(token, { error, errorType: errorType(error) });
      } catch {
        // No retry left (or not retryable): the error as the SDK's retry middleware ends it.
        error.$metadata = { ...error.$metadata, attempts: attempts + 1, totalRetryDelay };
        throw error;
      }
      attempts = token.getRetryCount();
      const delay = token.getRetryDelay();
      totalRetryDelay += delay;
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    }
  };
}

/** The SDK retry middleware's classification (`getRetryErrorType` in `@smithy/core/retry`). */
function errorType(error: SdkErrorShape): 'THROTTLING' | 'TRANSIENT' | 'SERVER_ERROR' | 'CLIENT_ERROR' {
  if (isThrottlingError(error)) return 'THROTTLING';
  if (isTransientError(error)) return 'TRANSIENT';
  if (isServerError(error)) return 'SERVER_ERROR';
  return 'CLIENT_ERROR';
}

async function resolveTarget(bucket: string, client: S3Client): Promise<BucketTarget | undefined> {
  const config = client.config;
  const endpoint = await getEndpointFromInstructions({ Bucket: bucket }, GetObjectCommand, config as never);
  const schemes = (endpoint.properties?.authSchemes ?? []) as SigV4Scheme[];
  const scheme = schemes[0];
  if (!scheme || scheme.name !== 'sigv4' || !scheme.signingRegion || !scheme.signingName) return undefined;
  const url = endpoint.url;
  const headers: Record<string, string> = {};
  for (const [name, values] of Object.entries(endpoint.headers ?? {})) headers[name] = values.join(',');
  return {
    protocol: url.protocol,
    hostname: url.hostname,
    port: url.port ? Number(url.port) : undefined,
    host: url.host,
    basePath: url.pathname.replace(/\/$/, ''),
    headers,
    signer: new SignatureV4({
      credentials: config.credentials,
      region: scheme.signingRegion,
      service: scheme.signingName,
      sha256: config.sha256,
      uriEscapePath: config.signingEscapePath,
    }),
  };
}

async function send(t: BucketTarget, config: S3Client['config'], key: string, range: string): Promise<HttpResponse> {
  const request = new HttpRequest({
    method: 'GET',
    protocol: t.protocol,
    hostname: t.hostname,
    ...(t.port === undefined ? {} : { port: t.port }),
    path: keyPath(t.basePath, key),
    query: { 'x-id': 'GetObject' },
    headers: { ...t.headers, host: t.host, range },
  });
  const signed = await t.signer.sign(request, { signingDate: new Date(Date.now() + (config.systemClockOffset ?? 0)) });
  const handler = config.requestHandler as { handle: (request: HttpRequest) => Promise<{ response: HttpResponse }> };
  return (await handler.handle(signed as HttpRequest)).response;
}

/** The error the SDK's GetObject throws for this response (it reads the response's body). */
async function decodeError(decoder: S3Client, response: HttpResponse, input: { Bucket: string; Key: string; Range: string }): Promise<SdkErrorShape> {
  try {
    await decoder.send(new GetObjectCommand(input), { [REPLAY]: response } as never);
  } catch (err) {
    return err as SdkErrorShape;
  }
  (response.body as Readable | undefined)?.destroy?.();
  return new Error(`GET s3://${input.Bucket}/${input.Key} answered ${response.statusCode} and the SDK found no error in it`) as SdkErrorShape;
}
