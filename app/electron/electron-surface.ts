/**
 * The slice of Electron's main-process API the kiosk shell uses, and nothing more. main.ts hands
 * the real `electron` module in, so tsc proves Electron satisfies it; the tests hand in
 * test/support/electron-stand-in.ts, which implements the same slice. Keeping the slice narrow is
 * what lets the wiring be tested without the Electron binary, which cannot run on the build host.
 * Types only: nothing here imports Electron at run time.
 */
import type { BrowserWindowConstructorOptions, HandlerDetails, Input, RenderProcessGoneDetails, Session, WindowOpenHandlerResponse } from 'electron';

/** What a listener may do with an Electron event: stop the default action. */
export interface Cancelable {
  preventDefault(): void;
}

/** Chromium's permission names, as Electron's session handlers spell them. */
export type PermissionName = Parameters<Parameters<Session['setPermissionCheckHandler']>[0] & object>[1];

export interface KioskSession {
  setPermissionRequestHandler(
    handler: (webContents: unknown, permission: PermissionName, callback: (granted: boolean) => void, details: { requestingUrl: string }) => void,
  ): void;
  setPermissionCheckHandler(
    handler: (webContents: unknown, permission: PermissionName, requestingOrigin: string, details: unknown) => boolean,
  ): void;
  setDevicePermissionHandler(handler: (details: unknown) => boolean): void;
  /** A download is about to start; preventing the event cancels it. */
  on(event: 'will-download', listener: (event: Cancelable) => void): unknown;
  // What a person's session left behind, cleared at its end (session-wipe.ts).
  clearData(): Promise<void>;
  clearStorageData(): Promise<void>;
  clearCache(): Promise<void>;
  clearAuthCache(): Promise<void>;
  clearHostResolverCache(): Promise<void>;
  flushStorageData(): void;
  webRequest: {
    onBeforeRequest(listener: (details: { url: string; resourceType: string }, callback: (response: { cancel: boolean }) => void) => void): void;
  };
}

export interface KioskWebContents {
  readonly session: KioskSession;
  on(event: 'will-navigate', listener: (event: Cancelable, url: string) => void): unknown;
  on(event: 'will-redirect', listener: (event: Cancelable, url: string) => void): unknown;
  on(event: 'before-input-event', listener: (event: Cancelable, input: Input) => void): unknown;
  on(event: 'render-process-gone', listener: (event: unknown, details: RenderProcessGoneDetails) => void): unknown;
  on(event: 'unresponsive', listener: () => void): unknown;
  setWindowOpenHandler(handler: (details: HandlerDetails) => WindowOpenHandlerResponse): void;
  loadURL(url: string): Promise<void>;
  getURL(): string;
  send(channel: string, ...args: unknown[]): void;
  forcefullyCrashRenderer(): void;
  isDestroyed(): boolean;
}

export interface KioskWindow {
  readonly webContents: KioskWebContents;
  on(event: 'close', listener: (event: Cancelable) => void): unknown;
  on(event: 'closed', listener: () => void): unknown;
  removeMenu(): void;
  isDestroyed(): boolean;
  isMinimized(): boolean;
  restore(): void;
  focus(): void;
}

/** The event ipcMain.handle passes: who sent the call, and from which frame. */
export interface IpcCallEvent {
  readonly sender: unknown;
  readonly senderFrame: { readonly url: string } | null;
}

export interface ElectronSurface {
  app: {
    requestSingleInstanceLock(): boolean;
    whenReady(): Promise<unknown>;
    on(event: 'second-instance', listener: () => void): unknown;
    on(event: 'before-quit', listener: (event: Cancelable) => void): unknown;
    quit(): void;
    exit(exitCode?: number): void;
  };
  BrowserWindow: new (options: BrowserWindowConstructorOptions) => KioskWindow;
  ipcMain: {
    handle(channel: string, listener: (event: IpcCallEvent, ...args: unknown[]) => Promise<unknown>): void;
  };
  Menu: {
    setApplicationMenu(menu: null): void;
  };
}
