/**
 * The one HTTP client the shim uses to talk to OpenStack: connection reuse, timeouts, retries that
 * are safe, schema validation of every answer, and one error type.
 */
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import got, { type Got, type Method, RequestError, HTTPError } from 'got';
import type { z } from 'zod';
import { OpenStackError, kindForStatus, serviceMessageOf, type OpenStackService } from './errors.js';

export interface HttpOptions {
  timeoutMs: number;
  /** PEM bundle trusted for the cloud's TLS endpoints, in addition to the system store. */
  caFile?: string | undefined;
  /** Told about every upstream call, for metrics. */
  observe?: (service: OpenStackService, seconds: number, outcome: string) => void;
}

export interface RequestOptions<T> {
  method?: Method;
  token?: string | undefined;
  json?: unknown;
  headers?: Record<string, string>;
  /** Validates the answer; anything that does not match becomes an `invalid-response` error. */
  schema: z.ZodType<T>;
}

export interface Response<T> {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: T;
}

const IDEMPOTENT: readonly string[] = ['GET', 'HEAD', 'PUT', 'DELETE'];

/** True when Node reused a kept-alive socket for this request (got keeps the ClientRequest private). */
function wasReusedSocket(error: RequestError): boolean {
  const clientRequest = (error.request as unknown as { _request?: { reusedSocket?: boolean } } | undefined)?._request;
  return clientRequest?.reusedSocket === true;
}

export class OpenStackHttp {
  private readonly client: Got;

  constructor(private readonly options: HttpOptions) {
    const ca = options.caFile ? readFileSync(options.caFile) : undefined;
    this.client = got.extend({
      agent: {
        http: new http.Agent({ keepAlive: true, maxSockets: 64 }),
        https: new https.Agent({ keepAlive: true, maxSockets: 64, ...(ca ? { ca } : {}) }),
      },
      timeout: { request: options.timeoutMs },
      throwHttpErrors: false,
      retry: {
        limit: 2,
        methods: ['GET', 'HEAD', 'PUT', 'DELETE', 'POST'],
        statusCodes: [502, 503, 504],
        // Not ETIMEDOUT: a service that timed out is overloaded and still works through the request
        // we gave up on; sending it again only deepens its queue.
        errorCodes: ['ECONNRESET', 'EPIPE', 'ECONNREFUSED'],
        // Retry idempotent calls on fast network failures and gateway errors. A POST is retried only when a
        // kept-alive socket was reset under it: uwsgi's http-socket (Debian's OpenStack setups) does
        // that to reused connections, and then the server never saw the request.
        calculateDelay: ({ attemptCount, error, computedValue }) => {
          if (computedValue === 0) return 0;
          const method = (error.options.method ?? 'GET').toUpperCase();
          if (IDEMPOTENT.includes(method)) return Math.min(100 * attemptCount, 500);
          return error.code === 'ECONNRESET' && wasReusedSocket(error) ? 1 : 0;
        },
      },
    });
  }

  async request<T>(service: OpenStackService, url: string, opts: RequestOptions<T>): Promise<Response<T>> {
    const method = opts.method ?? 'GET';
    const headers: Record<string, string> = { Accept: 'application/json', ...opts.headers };
    if (opts.token) headers['X-Auth-Token'] = opts.token;
    const started = process.hrtime.bigint();
    let outcome = 'error';
    try {
      const response = await this.client(url, { method, headers, json: opts.json, responseType: 'text' });
      outcome = String(response.statusCode);
      if (response.statusCode >= 300) {
        throw new OpenStackError(service, kindForStatus(response.statusCode), response.statusCode, serviceMessageOf(response.body));
      }
      const raw = response.body === '' ? {} : parseJson(service, response.body);
      const parsed = opts.schema.safeParse(raw);
      if (!parsed.success) {
        throw new OpenStackError(service, 'invalid-response', response.statusCode,
          `unexpected answer to ${method} ${new URL(url).pathname}: ${parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      }
      return { status: response.statusCode, headers: response.headers, body: parsed.data };
    } catch (error) {
      throw toOpenStackError(service, error);
    } finally {
      this.options.observe?.(service, Number(process.hrtime.bigint() - started) / 1e9, outcome);
    }
  }
}

/** Node's codes for a certificate it will not trust (as opposed to a network that does not answer). */
function isCertificateError(code: string): boolean {
  return code.startsWith('ERR_TLS_CERT') || /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/.test(code);
}

function parseJson(service: OpenStackService, body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    throw new OpenStackError(service, 'invalid-response', 200, `not JSON: ${body.slice(0, 120)}`);
  }
}

function toOpenStackError(service: OpenStackService, error: unknown): OpenStackError {
  if (error instanceof OpenStackError) return error;
  if (error instanceof HTTPError) {
    return new OpenStackError(service, kindForStatus(error.response.statusCode), error.response.statusCode, serviceMessageOf(String(error.response.body)));
  }
  if (error instanceof RequestError) {
    const code = error.code ?? error.name;
    return new OpenStackError(service, isCertificateError(code) ? 'tls' : 'unavailable', 0, `${code}: ${error.message}`);
  }
  return new OpenStackError(service, 'server-error', 0, error instanceof Error ? error.message : String(error));
}
