/**
 * OpenStack failures reduced to the few kinds a kiosk user can act on. Every service wraps its
 * message differently; `serviceMessage` digs it out so logs show what the cloud actually said.
 */
export type OpenStackService = 'keystone' | 'nova' | 'glance' | 'neutron';

export type OpenStackErrorKind =
  | 'unauthorized' // 401: wrong password, or the token is no longer valid
  | 'forbidden' // 403
  | 'not-found' // 404
  | 'conflict' // 409: wrong state for this action
  | 'precondition-failed' // 412: a compare-and-swap (If-Match) lost a race
  | 'bad-request' // 400
  | 'unavailable' // no answer, connection refused/reset, timeout, 502/503/504
  | 'tls' // the service's certificate is not trusted (unknown CA, expired, wrong name)
  | 'server-error' // other 5xx
  | 'invalid-response'; // an answer that does not match what the API documents

export class OpenStackError extends Error {
  constructor(
    readonly service: OpenStackService,
    readonly kind: OpenStackErrorKind,
    /** HTTP status from the service, or 0 when it never answered. */
    readonly status: number,
    /** The service's own words, for logs (may be technical). */
    readonly serviceMessage: string,
  ) {
    super(`${service}: ${kind} (${status || 'no answer'}): ${serviceMessage}`);
    this.name = 'OpenStackError';
  }
}

export function kindForStatus(status: number): OpenStackErrorKind {
  switch (status) {
    case 400: return 'bad-request';
    case 401: return 'unauthorized';
    case 403: return 'forbidden';
    case 404: return 'not-found';
    case 409: return 'conflict';
    case 412: return 'precondition-failed';
    case 502: case 503: case 504: return 'unavailable';
    default: return status >= 500 ? 'server-error' : 'bad-request';
  }
}

/**
 * Pull the human message out of an OpenStack error body:
 *   Keystone  {"error": {"code": 401, "title": "...", "message": "..."}}
 *   Nova      {"itemNotFound" | "conflictingRequest" | "badRequest" | ...: {"code", "message"}}
 *   Neutron   {"NeutronError": {"type", "message", "detail"}}
 *   Glance    plain text or HTML ("404 Not Found\n\nNo image found with ID ...")
 */
export function serviceMessageOf(body: string): string {
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed && typeof parsed === 'object') {
      for (const value of Object.values(parsed as Record<string, unknown>)) {
        if (value && typeof value === 'object' && 'message' in value) {
          const message = (value as { message: unknown }).message;
          if (typeof message === 'string' && message) return message;
        }
      }
      if ('message' in parsed && typeof (parsed as { message: unknown }).message === 'string') {
        return (parsed as { message: string }).message;
      }
    }
  } catch {
    // not JSON: fall through to plain text
  }
  const text = body.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
  return text.slice(0, 300) || '(empty body)';
}
