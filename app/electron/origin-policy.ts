/**
 * Where the kiosk page may go and what it may fetch: only the kiosk's own local server. Every
 * comparison is on the parsed origin (scheme, host and port), never on a string prefix, so
 * `http://127.0.0.1:8080.evil.example/` or `http://127.0.0.1:80801/` do not pass for
 * `http://127.0.0.1:8080`.
 */

function originOf(url: string): string | null {
  try {
    const origin = new URL(url).origin;
    // Opaque origins (data:, file:, about:) serialise as "null": never the kiosk's.
    return origin === 'null' ? null : origin;
  } catch {
    return null;
  }
}

/** A page or frame URL that belongs to the kiosk's local server. */
export function isRuntimeUrl(url: string, runtimeOrigin: string): boolean {
  return originOf(url) === runtimeOrigin;
}

/**
 * Schemes whose requests never leave the renderer: inline data, the page's own blobs, and the
 * devtools front end (which only exists when devtools are allowed at all).
 */
const LOCAL_SCHEMES = new Set(['data:', 'blob:', 'devtools:']);

/**
 * A request the renderer may make: same origin as the kiosk server, counting its websockets (the
 * in-app console relay) as same origin, or a scheme that stays inside the renderer.
 */
export function isAllowedRequest(url: string, runtimeOrigin: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (LOCAL_SCHEMES.has(parsed.protocol)) return true;
  if (parsed.protocol === 'ws:' || parsed.protocol === 'wss:') {
    parsed.protocol = parsed.protocol === 'ws:' ? 'http:' : 'https:';
  }
  return originOf(parsed.href) === runtimeOrigin;
}
