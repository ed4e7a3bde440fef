/**
 * The session behind a request: a bearer token sealed by us (session-token.ts), not expired, not
 * logged out (on any instance sharing stateDir, before or after a restart: ended-sessions.ts), and
 * its person still allowed upstream (the backend asks, e.g. Keystone every sessionCheckSeconds).
 * Keystone revokes the token at logout, but Nova's auth middleware keeps accepting a token it
 * validated recently, so the shim decides itself.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { ApiError } from '../core/api-error.js';
import type { EndedSessions } from './ended-sessions.js';
import { sessionIdOf, type SessionPayload, type SessionSealer } from './session-token.js';

export class SessionCheck {
  constructor(
    private readonly sealer: SessionSealer,
    private readonly endedSessions: EndedSessions,
    /** Throws ApiError 'session-expired' when the person may no longer act (the backend's validate). */
    private readonly stillAllowed: (session: SessionPayload) => Promise<void>,
  ) {}

  /** The request's bearer token; 401 "Please log in." without one. */
  tokenOf(headers: IncomingHttpHeaders): string {
    const token = /^Bearer\s+(\S+)$/i.exec(headers.authorization ?? '')?.[1];
    if (!token) throw new ApiError('session-expired', 'Please log in.', 'no bearer token');
    return token;
  }

  /** The request's session; 401 when it has none that is still good. */
  async sessionOf(headers: IncomingHttpHeaders): Promise<SessionPayload> {
    const token = this.tokenOf(headers);
    const payload = this.sealer.open(token);
    if (!payload || this.endedSessions.isEnded(sessionIdOf(token, payload))) {
      throw new ApiError('session-expired', 'Your session has ended. Please log in again.', 'session token invalid, expired or logged out');
    }
    await this.stillAllowed(payload);
    return payload;
  }
}
