/**
 * An OpenStack failure (errors.ts) as the kiosk shows it: an ApiError whose message is a sentence
 * for the person at the kiosk, with what OpenStack said kept for the log.
 */
import { ApiError } from '../../core/api-error.js';
import { OpenStackError } from './errors.js';

const SERVICE_NAMES = { keystone: 'identity service (Keystone)', nova: 'compute service (Nova)', glance: 'image service (Glance)', neutron: 'network service (Neutron)' } as const;

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
