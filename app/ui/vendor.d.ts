// Types for the two viewer libraries the page imports as plain ES modules from the local server
// (/vendor/... → node_modules). Only what the page uses is declared. The names are type-only:
// the page imports the real URLs (see view-session.ts).
declare module 'vendor:novnc' {
  export default class RFB extends EventTarget {
    constructor(target: HTMLElement, urlOrChannel: string | WebSocket, options?: { credentials?: { password?: string; username?: string }; shared?: boolean });
    scaleViewport: boolean;
    resizeSession: boolean;
    focusOnClick: boolean;
    viewOnly: boolean;
    disconnect(): void;
    sendCtrlAltDel(): void;
    sendCredentials(credentials: { password?: string; username?: string }): void;
    focus(): void;
  }
}
declare module 'vendor:spice' {
  export class SpiceMainConn {
    constructor(options: { uri: string; screen_id: string; message_id?: string; password?: string; onerror?: (e: unknown) => void; onsuccess?: () => void; onagent?: () => void });
    /** The main channel's websocket (spice-html5's SpiceConn.ws); undefined once stopped. */
    ws?: WebSocket;
    stop(): void;
  }
  export function sendCtrlAltDel(connection: SpiceMainConn): void;
  export function handle_resize(event?: unknown): void;
  export function resize_helper(connection: SpiceMainConn): void;
}
