/**
 * STAND-IN for the `electron` module, for unit tests only. It exists because the Electron binary
 * cannot be downloaded or run on the build and test hosts (the `electron` npm package is installed
 * for its types alone), so the shell's wiring is tested against this instead of a real Electron.
 *
 * Main-process side: implements the slice of Electron in app/electron/electron-surface.ts (so tsc
 * checks it against the same interface the real module is checked against in main.ts), records
 * what the shell sets up (window options, handlers, IPC handlers, menu) and lets a test fire what
 * Electron would fire: navigations, key presses, permission requests, network requests, IPC calls,
 * renderer deaths. Renderer side: contextBridge and ipcRenderer for the preload script, which is run
 * the way Electron runs a sandboxed preload (a CommonJS function whose `require` knows only a few
 * modules). Where it models Electron's behaviour, the member says which behaviour and why.
 */
import { readFileSync } from 'node:fs';
import { compileFunction } from 'node:vm';
import type { BrowserWindowConstructorOptions, HandlerDetails, Input, RenderProcessGoneDetails, WindowOpenHandlerResponse } from 'electron';
import type { Cancelable, ElectronSurface, IpcCallEvent, KioskSession, KioskWebContents, KioskWindow, PermissionName } from '../../app/electron/electron-surface.js';

type Listener = (...args: never[]) => unknown;

/** An Electron event as listeners receive it: only `preventDefault` matters to the shell. */
export class StandInEvent implements Cancelable {
  defaultPrevented = false;
  preventDefault(): void {
    this.defaultPrevented = true;
  }
}

class Emitter {
  private readonly listeners = new Map<string, Listener[]>();

  on(event: string, listener: Listener): this {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
    return this;
  }

  removeListener(event: string, listener: Listener): this {
    this.listeners.set(event, (this.listeners.get(event) ?? []).filter((l) => l !== listener));
    return this;
  }

  listenerCount(event: string): number {
    return this.listeners.get(event)?.length ?? 0;
  }

  protected emit(event: string, ...args: unknown[]): void {
    for (const listener of this.listeners.get(event) ?? []) (listener as (...a: unknown[]) => unknown)(...args);
  }

  /** Fires `event` with a fresh StandInEvent first and says whether a listener prevented it. */
  protected emitCancelable(event: string, ...args: unknown[]): boolean {
    const e = new StandInEvent();
    this.emit(event, e, ...args);
    return e.defaultPrevented;
  }
}

type PermissionRequestHandler = Parameters<KioskSession['setPermissionRequestHandler']>[0];
type PermissionCheckHandler = Parameters<KioskSession['setPermissionCheckHandler']>[0];
type BeforeRequestListener = Parameters<KioskSession['webRequest']['onBeforeRequest']>[0];

/** Kinds of data a browser session holds for its pages, as the stand-in session keeps track of them. */
export type HeldData = 'cookies' | 'localStorage' | 'indexedDB' | 'serviceWorkers' | 'cacheStorage' | 'fileSystems' | 'shaderCache'
  | 'httpCache' | 'authCache' | 'hostResolverCache';

export class StandInSession extends Emitter implements KioskSession {
  /**
   * What the page has left in the session; a test puts it there (as a page using the session
   * would), and the clearing calls remove what Electron documents each of them to remove.
   */
  readonly held = new Set<HeldData>();
  /** Every clearing call, in order. */
  readonly clearCalls: string[] = [];
  flushes = 0;
  /** A clearing call that rejects, as Electron's do when Chromium reports an error. */
  failing: string | null = null;
  permissionRequestHandler: PermissionRequestHandler | null = null;
  permissionCheckHandler: PermissionCheckHandler | null = null;
  devicePermissionHandler: ((details: unknown) => boolean) | null = null;
  beforeRequest: BeforeRequestListener | null = null;

  readonly webRequest = {
    onBeforeRequest: (listener: BeforeRequestListener) => {
      this.beforeRequest = listener;
    },
  };

  setPermissionRequestHandler(handler: PermissionRequestHandler): void {
    this.permissionRequestHandler = handler;
  }
  setPermissionCheckHandler(handler: PermissionCheckHandler): void {
    this.permissionCheckHandler = handler;
  }
  setDevicePermissionHandler(handler: (details: unknown) => boolean): void {
    this.devicePermissionHandler = handler;
  }

  /**
   * A page asks for a permission. Like Electron, no handler means granted: Chromium's default in
   * Electron is to allow, which is why the shell must install one.
   */
  requestPermission(permission: PermissionName, requestingUrl: string): Promise<boolean> {
    const handler = this.permissionRequestHandler;
    if (!handler) return Promise.resolve(true);
    return new Promise((resolve) => handler(null, permission, resolve, { requestingUrl }));
  }

  checkPermission(permission: PermissionName, requestingOrigin: string): boolean {
    return this.permissionCheckHandler ? this.permissionCheckHandler(null, permission, requestingOrigin, {}) : true;
  }

  private clear(call: string, kinds: HeldData[]): Promise<void> {
    this.clearCalls.push(call);
    if (this.failing === call) return Promise.reject(new Error(`${call} failed`));
    for (const kind of kinds) this.held.delete(kind);
    return Promise.resolve();
  }

  /** Electron: all BrowsingDataRemover types (cookies, storage, caches, service workers...). */
  clearData(): Promise<void> {
    return this.clear('clearData', ['cookies', 'localStorage', 'indexedDB', 'serviceWorkers', 'cacheStorage', 'fileSystems', 'httpCache']);
  }
  /** Electron: cookies, filesystem, indexdb, localstorage, shadercache, serviceworkers, cachestorage. */
  clearStorageData(): Promise<void> {
    return this.clear('clearStorageData', ['cookies', 'fileSystems', 'indexedDB', 'localStorage', 'shaderCache', 'serviceWorkers', 'cacheStorage']);
  }
  clearCache(): Promise<void> {
    return this.clear('clearCache', ['httpCache']);
  }
  clearAuthCache(): Promise<void> {
    return this.clear('clearAuthCache', ['authCache']);
  }
  clearHostResolverCache(): Promise<void> {
    return this.clear('clearHostResolverCache', ['hostResolverCache']);
  }
  flushStorageData(): void {
    this.flushes++;
  }

  /** The page starts a download; true when the shell cancelled it (no listener: it goes ahead). */
  download(): boolean {
    return this.emitCancelable('will-download', {}, {});
  }

  /** The renderer fetches `url`; true when the request may go ahead (no listener: it may). */
  request(url: string, resourceType = 'xhr'): Promise<boolean> {
    const listener = this.beforeRequest;
    if (!listener) return Promise.resolve(true);
    return new Promise((resolve) => listener({ url, resourceType }, (response) => resolve(!response.cancel)));
  }
}

export class StandInWebContents extends Emitter implements KioskWebContents {
  readonly session = new StandInSession();
  /** Every URL passed to loadURL, in order. */
  readonly loads: string[] = [];
  /** Every message sent to the page. */
  readonly sent: { channel: string; args: unknown[] }[] = [];
  windowOpenHandler: ((details: HandlerDetails) => WindowOpenHandlerResponse) | null = null;
  crashRequests = 0;
  destroyed = false;
  private url = '';


  setWindowOpenHandler(handler: (details: HandlerDetails) => WindowOpenHandlerResponse): void {
    this.windowOpenHandler = handler;
  }

  loadURL(url: string): Promise<void> {
    this.loads.push(url);
    this.url = url;
    return Promise.resolve();
  }

  getURL(): string {
    return this.url;
  }

  send(channel: string, ...args: unknown[]): void {
    this.sent.push({ channel, args });
  }

  /** Electron documents that this emits render-process-gone (reason "killed") for the contents. */
  forcefullyCrashRenderer(): void {
    this.crashRequests++;
    this.rendererGone({ reason: 'killed', exitCode: 9 });
  }

  isDestroyed(): boolean {
    return this.destroyed;
  }

  // What Electron would fire:

  /** The page navigates its main frame; true when the shell prevented it. */
  navigate(url: string): boolean {
    const prevented = this.emitCancelable('will-navigate', url);
    if (!prevented) this.url = url;
    return prevented;
  }

  /** A navigation is redirected to `url`; true when the shell prevented it. */
  redirect(url: string): boolean {
    return this.emitCancelable('will-redirect', url);
  }

  /** The page calls window.open (no handler: Electron opens the window). */
  openWindow(url: string): WindowOpenHandlerResponse {
    if (!this.windowOpenHandler) return { action: 'allow' };
    return this.windowOpenHandler({ url, frameName: '', features: '', disposition: 'new-window', referrer: { url: '', policy: 'default' } } as unknown as HandlerDetails);
  }

  /** A key is pressed; true when the shell kept it from the page. */
  pressKey(keys: Partial<Input> & Pick<Input, 'key'>): boolean {
    const input = { type: 'keyDown', code: '', control: false, shift: false, alt: false, meta: false, isAutoRepeat: false, isComposing: false, location: 0, modifiers: [], ...keys };
    return this.emitCancelable('before-input-event', input);
  }

  rendererGone(details: RenderProcessGoneDetails): void {
    this.emit('render-process-gone', new StandInEvent(), details);
  }

  becomeUnresponsive(): void {
    this.emit('unresponsive');
  }
}

export interface StandInWindow extends KioskWindow {
  readonly options: BrowserWindowConstructorOptions;
  readonly webContents: StandInWebContents;
  menuRemoved: boolean;
  focused: number;
  minimized: boolean;
  /** Something asks the window to close (Alt+F4 via the window manager, window.close()); true when it closed. */
  requestClose(): boolean;
}

export interface IpcFrom {
  sender: unknown;
  senderFrame: { url: string } | null;
}

/** One Electron for one test: nothing is shared between instances. */
export function createElectronStandIn(options: { singleInstanceLock?: boolean } = {}) {
  const windows: StandInWindow[] = [];
  const ipcHandlers = new Map<string, (event: IpcCallEvent, ...args: unknown[]) => Promise<unknown>>();
  const applicationMenus: null[] = [];
  const appEvents = new (class extends Emitter {
    fire(event: string, ...args: unknown[]) {
      this.emit(event, ...args);
    }
    fireCancelable(event: string): boolean {
      return this.emitCancelable(event);
    }
  })();
  const state = { quitCalls: 0, exitCodes: [] as number[], quitted: false };

  class BrowserWindow extends Emitter implements StandInWindow {
    readonly webContents = new StandInWebContents();
    menuRemoved = false;
    focused = 0;
    minimized = false;
    private destroyed = false;

    constructor(readonly options: BrowserWindowConstructorOptions) {
      super();
      windows.push(this);
    }
    removeMenu(): void {
      this.menuRemoved = true;
    }
    isDestroyed(): boolean {
      return this.destroyed;
    }
    isMinimized(): boolean {
      return this.minimized;
    }
    restore(): void {
      this.minimized = false;
    }
    focus(): void {
      this.focused++;
    }
    requestClose(): boolean {
      if (this.emitCancelable('close')) return false;
      this.destroyed = true;
      this.webContents.destroyed = true;
      this.emit('closed');
      return true;
    }
  }

  const surface: ElectronSurface = {
    app: {
      requestSingleInstanceLock: () => options.singleInstanceLock ?? true,
      whenReady: () => Promise.resolve(),
      on: (event: string, listener: Listener) => appEvents.on(event, listener),
      /** As in Electron: 'before-quit' first, and a listener that prevents it cancels the quit. */
      quit: () => {
        state.quitCalls++;
        if (appEvents.fireCancelable('before-quit')) return;
        state.quitted = true;
        for (const window of windows) window.requestClose();
      },
      exit: (exitCode = 0) => {
        state.exitCodes.push(exitCode);
      },
    },
    BrowserWindow,
    ipcMain: {
      handle: (channel, listener) => {
        // Electron throws on a second handler for one channel; so does the stand-in.
        if (ipcHandlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
        ipcHandlers.set(channel, listener);
      },
    },
    Menu: {
      setApplicationMenu: (menu) => {
        applicationMenus.push(menu);
      },
    },
  };

  return {
    surface,
    windows,
    applicationMenus,
    state,
    /** A renderer frame calls ipcRenderer.invoke(channel, ...args). */
    invoke(channel: string, from: IpcFrom, ...args: unknown[]): Promise<unknown> {
      const handler = ipcHandlers.get(channel);
      if (!handler) return Promise.reject(new Error(`No handler registered for '${channel}'`));
      return handler(from, ...args);
    },
    ipcChannels: () => [...ipcHandlers.keys()],
    /** Another launch of the app ran while this one holds the lock. */
    secondInstance: () => appEvents.fire('second-instance', new StandInEvent(), [], '/', {}),
  };
}

/** The renderer half: what a sandboxed preload can reach through `require('electron')`. */
export function createRendererStandIn() {
  const exposed = new Map<string, unknown>();
  const invocations: { channel: string; args: unknown[] }[] = [];
  let answer: (channel: string, args: unknown[]) => unknown = () => undefined;
  const ipc = new (class extends Emitter {
    fire(channel: string, ...args: unknown[]) {
      this.emit(channel, ...args);
    }
  })();
  const electron = {
    contextBridge: {
      exposeInMainWorld(apiKey: string, api: unknown) {
        // Electron refuses to expose the same key twice.
        if (exposed.has(apiKey)) throw new Error(`Cannot bind an API on top of an existing property on the window object: ${apiKey}`);
        exposed.set(apiKey, api);
      },
    },
    ipcRenderer: {
      invoke(channel: string, ...args: unknown[]): Promise<unknown> {
        invocations.push({ channel, args });
        return Promise.resolve(answer(channel, args));
      },
      on(channel: string, listener: Listener) {
        ipc.on(channel, listener);
        return this;
      },
      removeListener(channel: string, listener: Listener) {
        ipc.removeListener(channel, listener);
        return this;
      },
    },
  };
  return {
    electron,
    exposed,
    invocations,
    answerWith(fn: (channel: string, args: unknown[]) => unknown) {
      answer = fn;
    },
    /** Main sends `payload` on `channel` (webContents.send); listeners get (IpcRendererEvent, payload). */
    sendFromMain(channel: string, payload: unknown) {
      ipc.fire(channel, { sender: electron.ipcRenderer, senderId: 0, ports: [] }, payload);
    },
    listenerCount: (channel: string) => ipc.listenerCount(channel),
  };
}

/**
 * Runs a compiled preload the way Electron runs a sandboxed one (lib/sandboxed_renderer): the
 * file's text as the body of a function of (require, process, exports, module), where `require`
 * knows only the modules given and throws "module not found" for anything else, as Electron's does.
 */
export function runSandboxedPreload(file: string, modules: Record<string, unknown>): void {
  const body = readFileSync(file, 'utf8');
  const preload = compileFunction(body, ['require', 'process', 'exports', 'module'], { filename: file });
  const preloadRequire = (name: string) => {
    if (Object.prototype.hasOwnProperty.call(modules, name)) return modules[name];
    throw new Error(`module not found: ${name}`);
  };
  const exports = {};
  preload(preloadRequire, {}, exports, { exports });
}
