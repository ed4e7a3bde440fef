/**
 * The shim's one error type: a kind from the contract, the HTTP status it travels with, a message
 * for the person at the kiosk, and a separate message for the log.
 */
import type { ErrorKind } from '../../contract/api.js';
import { OpenStackError } from '../desktops/openstack/errors.js';

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

const SERVICE_NAMES = { keystone: 'identity service (Keystone)', nova: 'compute service (Nova)', glance: 'image service (Glance)', neutron: 'network service (Neutron)' } as const;

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

/**
 * Translate an OpenStack failure into what the kiosk shows. `context` names what was being done,
 * e.g. "listing your desktops", so the message reads as one sentence.
 */
export function fromOpenStack(error: unknown, context: string): ApiError {
  if (error instanceof ApiError) return error;
  if (!(error instanceof OpenStackError)) {
    return new ApiError('internal', `Something went wrong while ${context}. Please try again.`, error instanceof Error ? (error.stack ?? error.message) : String(error));
  }
  const service = SERVICE_NAMES[error.service];
  const log = `${context}: ${error.message}`;
  const extra = { service: error.service };
  switch (error.kind) {
    case 'unauthorized':
      return new ApiError('session-expired', 'Your session has ended. Please log in again.', log, extra);
    case 'forbidden':
      return new ApiError('forbidden', `You are not allowed to do this (${context}). Ask your administrator.`, log, extra);
    case 'not-found':
      return new ApiError('not-found', 'That desktop no longer exists. Refresh the list.', log, extra);
    case 'conflict':
    case 'precondition-failed':
      return new ApiError('conflict', `The desktop is busy or in the wrong state for this (${context}). Wait a moment and try again.`, log, extra);
    case 'bad-request':
      return new ApiError('upstream-error', `The cloud refused the request while ${context}: ${error.serviceMessage}`, log, extra);
    case 'unavailable':
      return new ApiError('upstream-unavailable', `The cloud's ${service} is not answering. Try again in a minute; if it persists, tell your administrator.`, log, extra);
    case 'tls':
      return new ApiError('upstream-unavailable', `The controller does not trust the certificate of the cloud's ${service}. Tell your administrator (controller setting openstack.caFile).`, log, extra);
    case 'server-error':
    case 'invalid-response':
      return new ApiError('upstream-error', `The cloud's ${service} had a problem while ${context}. Try again; if it persists, tell your administrator.`, log, extra);
  }
}
