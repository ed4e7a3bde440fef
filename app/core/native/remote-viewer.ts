/**
 * remote-viewer (Debian's virt-viewer 11, spice-gtk) for SPICE: its connection file, arguments, and
 * what its `--debug` output means. remote-viewer never exits on a wrong ticket or a refused
 * connection: it opens a dialog and waits, so the lines that say so decide the outcome and the
 * supervisor stops it. Lines used here are kept as recorded fixtures in test/fixtures/native/.
 */
import { hostPort, noScreen, type LineMeaning, type NativeResult, type SpiceTarget, type ViewerOutputParser } from './native-types.js';

/** remote-viewer's hotkey for Ctrl+Alt+Del in the guest; written into the file so it is known, not assumed. */
export const SPICE_SECURE_ATTENTION_KEYS = 'ctrl+alt+End';

/**
 * The .vv connection file (virt-viewer's `[virt-viewer]` key file). The ticket is only ever here,
 * never on the command line, and the file is handed over through a FIFO (see vv-fifo.ts).
 */
export function vvFileContent(target: SpiceTarget): string {
  const entries: [string, string][] = [
    ['type', 'spice'],
    ['host', target.host.replace(/^\[|\]$/g, '')],
    ['port', String(target.port)],
  ];
  if (target.password !== null) entries.push(['password', target.password]);
  entries.push(
    ['fullscreen', target.fullscreen ? '1' : '0'],
    ['enable-usbredir', target.usb ? '1' : '0'],
    // Devices plugged in during the session go to the desktop; spice-gtk's default filter keeps
    // keyboards and mice (HID) on the kiosk.
    ['usb-autoshare', target.usb ? '1' : '0'],
    ['secure-attention', SPICE_SECURE_ATTENTION_KEYS.toLowerCase()],
    // remote-viewer removes the file once read; the FIFO is empty after one read anyway.
    ['delete-this-file', '1'],
  );
  return `[virt-viewer]\n${entries.map(([key, value]) => `${key}=${escapeKeyFileValue(value)}`).join('\n')}\n`;
}

/** GKeyFile value escaping: a backslash, newline or leading space would otherwise change the value. */
export function escapeKeyFileValue(value: string): string {
  return value
    .replace(/\\/g, '\\\\')
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r')
    .replace(/\t/g, '\\t')
    .replace(/^ /, '\\s');
}

export function remoteViewerArgs(target: SpiceTarget, vvPath: string): string[] {
  // --debug is what reports "auth failure" and "failed to connect"; without it a wrong ticket is
  // only a dialog on screen. It logs no ticket (checked against the recorded runs).
  const args = ['--debug'];
  // Kiosk mode: full screen, no menus (no file dialogs to escape through), and quit when the
  // server goes away instead of showing a dialog.
  if (target.fullscreen) args.push('--kiosk', '--kiosk-quit=on-disconnect');
  if (!target.usb) args.push('--spice-disable-usbredir');
  args.push(vvPath);
  return args;
}

/** Follows one remote-viewer run's output and explains how it ended. */
export class RemoteViewerOutput implements ViewerOutputParser {
  private connected = false;
  private decided: NativeResult | null = null;
  private lastLine: string | null = null;
  private noDisplay = false;

  constructor(private readonly host: string, private readonly port: number) {}

  line(text: string): LineMeaning | null {
    const message = /virt-viewer-DEBUG: [\d:.]+: (.*)$/.exec(text)?.[1] ?? text.trim();
    if (message) this.lastLine = message;
    if (/cannot open display/.test(message)) this.noDisplay = true;
    if (this.decided) return null;
    if (/creating spice display/.test(message) && !this.connected) {
      this.connected = true;
      return { kind: 'connected' };
    }
    if (/main channel: auth failure/.test(message)) {
      return this.decide({ outcome: 'wrong-password', message: "The desktop's console did not accept its password. Connect again; if it keeps happening, tell your administrator." });
    }
    const failed = /main channel: failed to connect (.*)$/.exec(message);
    if (failed) {
      if (/Error resolving/.test(failed[1] ?? '')) {
        return this.decide({ outcome: 'unreachable', message: `The desktop's address ${this.host} could not be found. Check the network connection, or tell your administrator.` });
      }
      return this.decide({ outcome: 'unreachable', message: `The desktop's console at ${hostPort(this.host, this.port)} does not answer. The desktop may be switched off or still starting: try again in a minute.` });
    }
    if (/main channel: closed/.test(message)) {
      // A SPICE server takes one client: a second viewer elsewhere closes this one the same way.
      return this.decide(this.connected
        ? { outcome: 'disconnected', message: 'The connection to the desktop was closed: it stopped, the network failed, or someone else opened its console. Connect again to continue.' }
        : { outcome: 'unreachable', message: `The desktop's console at ${hostPort(this.host, this.port)} closed the connection while connecting. Try again in a minute.` });
    }
    return null;
  }

  finish(exit: { exitCode: number; signal: number }): NativeResult {
    if (this.decided) return this.decided;
    if (this.noDisplay) return noScreen();
    if (this.connected && exit.exitCode === 0 && !exit.signal) return { outcome: 'ended', message: 'The session has ended.' };
    const how = exit.signal ? `signal ${exit.signal}` : `exit code ${exit.exitCode}`;
    // Its last line is most often GTK or GLib chatter ("Child allocate 1190x744", an assertion in
    // g_key_file): the log keeps it, the person gets the sentence.
    return {
      outcome: 'failed', message: `The SPICE viewer stopped (${how}). Try again; if it keeps happening, tell your administrator.`,
      ...(this.lastLine ? { detail: `last output: ${this.lastLine}` } : {}),
    };
  }

  private decide(result: NativeResult): LineMeaning {
    this.decided = result;
    return { kind: 'decided', result };
  }
}
