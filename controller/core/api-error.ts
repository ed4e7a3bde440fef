/**
 * The shim's one error type: a kind from the contract, the HTTP status it travels with, a message
 * for the person at the kiosk, and a separate message for the log. (An OpenStack failure becomes
 * one in desktops/openstack/failures.ts.)
 */
import type { ErrorKind } from '../../contract/api.js';

const STATUS: Record<ErrorKind, number> = {
  'bad-request': 400,
  'invalid-credentials': 401,
  'session-expired': 401,
  forbidden: 403,
  'not-found': 404,
  conflict: 409,
  'not-ready': 409,
  'too-many-attempts': 429,
  'upstream-unavailable': 503,
  'upstream-error': 502,
  internal: 500,
};

export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly kind: ErrorKind,
    readonly userMessage: string,
    readonly logMessage: string = userMessage,
    readonly extra: { service?: string; retryAfterSeconds?: number } = {},
  ) {
    super(logMessage);
    this.name = 'ApiError';
    this.status = STATUS[kind];
  }
}
