/**
 * FreeRDP 2 (`xfreerdp` from Debian's freerdp2-x11): its arguments, the answers to its credential
 * prompts, and what its output and exit code mean. Written against 2.11.7; the log lines and exit
 * codes used here are kept as recorded fixtures in test/fixtures/native/.
 */
import { hostPort, noScreen, type LineMeaning, type NativeResult, type RdpTarget, type ViewerOutputParser } from './native-types.js';

/**
 * What to do with the desktop's TLS certificate. `tofu` (the default) accepts it on first contact
 * and refuses a changed one: OpenStack desktops carry self-signed certificates, so `deny` (only
 * CA-signed) fits sites with their own CA and `ignore` only test rigs.
 */
export type RdpCertificatePolicy = 'tofu' | 'deny' | 'ignore';

export function freerdpArgs(target: RdpTarget, certificates: RdpCertificatePolicy = 'tofu'): string[] {
  const args = [`/v:${hostPort(target.host, target.port)}`, `/u:${target.username}`];
  if (target.domain) args.push(`/d:${target.domain}`);
  // The password is typed into xfreerdp's own prompt through the pty (see freerdpPromptReply), so
  // it is never in argv (ps, /proc/<pid>/cmdline) nor in a file. `:force` asks before connecting,
  // so servers without NLA (xrdp, Windows with TLS security) get the credentials too.
  args.push('/from-stdin:force', `/cert:${certificates}`);
  if (target.fullscreen) {
    // Without a window manager the floatbar's close button is the user's way back to the kiosk.
    args.push('/f', '/floatbar:sticky:off,default:visible,show:fullscreen');
  }
  args.push('/dynamic-resolution');
  // Mode 2 tells the server to play nothing rather than stream audio nobody hears.
  args.push(target.sound ? '/sound' : '/audio-mode:2');
  // Sticks plugged in during the session appear as drives (what Windows guests accept without
  // extra policy); /usb:auto forwards other newly plugged devices as raw USB where the guest allows.
  if (target.usb) args.push('/drive:hotplug,*', '/usb:auto');
  // The connection state machine's transitions (no credentials in them) tell "refused while
  // checking the password" from "no answer" and mark the moment the session is up.
  args.push('/log-filters:com.freerdp.core.connection:DEBUG');
  return args;
}

export type FreerdpPrompt = 'password' | 'domain' | 'username';

/**
 * The answer to the prompt `pending` (output not yet ended by a newline) ends with, or null. FreeRDP
 * turns echo off before it prints "Password: " and flushes earlier input, so the answer is written
 * only once the prompt is there and never comes back in the output.
 */
export function freerdpPromptReply(pending: string, target: RdpTarget): { prompt: FreerdpPrompt; reply: string } | null {
  const match = /(?:^|\n)\s*(Password|Domain|Username): $/.exec(pending);
  if (!match) return null;
  switch (match[1]) {
    case 'Password':
      return { prompt: 'password', reply: `${target.password}\r` };
    case 'Domain':
      return { prompt: 'domain', reply: `${target.domain ?? ''}\r` };
    default:
      return { prompt: 'username', reply: `${target.username}\r` };
  }
}

// xfreerdp exit codes (client/X11/xfreerdp.h, enum XF_EXIT_CODE).
const EXIT = {
  disconnect: 1, logoff: 2, idleTimeout: 3, logonTimeout: 4, replaced: 5, disconnectByUser: 11,
  connFailed: 131, authFailure: 132, logonFailure: 134, lockedOut: 135, dnsError: 139, dnsNotFound: 140,
  connectFailed: 141, tlsFailed: 143, insufficientPrivileges: 144, cancelled: 145, transportFailed: 147,
  passwordExpired: 148, passwordMustChange: 149, accountDisabled: 151, passwordCertainlyExpired: 152,
  wrongPassword: 154, accessDenied: 155, accountRestriction: 156, accountExpired: 157, logonTypeNotGranted: 158,
  noCredentials: 159,
} as const;

const LOGON_REFUSED = new Set(['ERRCONNECT_LOGON_FAILURE', 'ERRCONNECT_WRONG_PASSWORD', 'ERRCONNECT_AUTHENTICATION_FAILED', 'ERRCONNECT_NO_OR_MISSING_CREDENTIALS']);
const PASSWORD_EXPIRED = new Set(['ERRCONNECT_PASSWORD_EXPIRED', 'ERRCONNECT_PASSWORD_MUST_CHANGE', 'ERRCONNECT_PASSWORD_CERTAINLY_EXPIRED']);
const ACCOUNT_BARRED = new Set([
  'ERRCONNECT_ACCOUNT_DISABLED', 'ERRCONNECT_ACCOUNT_EXPIRED', 'ERRCONNECT_ACCOUNT_RESTRICTION', 'ERRCONNECT_LOGON_TYPE_NOT_GRANTED',
  'ERRCONNECT_ACCESS_DENIED', 'ERRCONNECT_INSUFFICIENT_PRIVILEGES',
]);

/**
 * Follows one xfreerdp run's output and explains how it ended. A wrong password is only visible
 * with NLA; servers that check it inside the session (xrdp, Windows with TLS security) show their
 * own login dialog there, which to xfreerdp, and so here, is a connected session: the person at the
 * kiosk sees the server's message and can type again.
 */
export class FreerdpOutput implements ViewerOutputParser {
  private connected = false;
  /** The connection state the last failed attempt fell back from. */
  private failedIn: string | null = null;
  private readonly codes = new Set<string>();
  private logonDenied = false;
  private certificateChanged = false;
  private certificateRefused = false;
  private networkLost = false;
  private noDisplay = false;
  private lastError: string | null = null;

  constructor(private readonly host: string, private readonly port: number) {}

  line(text: string): LineMeaning | null {
    const transition = /rdp_client_transition_to_state (\w+) --> (\w+)/.exec(text);
    if (transition) {
      const [, from, to] = transition;
      if (to === 'CONNECTION_STATE_ACTIVE' && !this.connected) {
        this.connected = true;
        return { kind: 'connected' };
      }
      if (to === 'CONNECTION_STATE_INITIAL' && !this.connected && from) this.failedIn = from;
      return null;
    }
    for (const code of text.match(/ERRCONNECT_\w+/g) ?? []) this.codes.add(code);
    if (/STATUS_LOGON_FAILURE|SEC_E_LOGON_DENIED/.test(text)) this.logonDenied = true;
    if (/host key for .* has changed|REMOTE HOST IDENTIFICATION HAS CHANGED/i.test(text)) this.certificateChanged = true;
    if (/certificate not trusted, aborting/.test(text)) this.certificateRefused = true;
    if (/Network disconnect!/.test(text)) this.networkLost = true;
    if (/failed to open display/.test(text)) this.noDisplay = true;
    const error = /\[ERROR\]\[[\w.]+\] - (.*)$/.exec(text);
    // Backtrace frames ("com.freerdp.utils] - 3: /lib/...") follow any caught signal; they explain nothing.
    if (error?.[1] && !/^\d+: /.test(error[1]) && !/^Caught signal/.test(error[1])) this.lastError = error[1].trim();
    return null;
  }

  finish(exit: { exitCode: number; signal: number }): NativeResult {
    const { exitCode } = exit;
    const has = (...names: string[]) => names.some((name) => this.codes.has(name));
    const where = hostPort(this.host, this.port);

    if (this.noDisplay) return noScreen();
    if (this.certificateChanged) {
      return { outcome: 'certificate', cause: 'certificate-changed', message: `The security certificate of the desktop at ${where} has changed since this kiosk last connected, so it did not connect: someone may be intercepting the connection. Tell your administrator.` };
    }
    if (this.certificateRefused) {
      return { outcome: 'certificate', cause: 'certificate-untrusted', message: `The desktop at ${where} showed a security certificate this kiosk does not trust, so it did not connect. Tell your administrator.` };
    }
    if (this.logonDenied || [...LOGON_REFUSED].some((c) => this.codes.has(c)) || exitCode === EXIT.logonFailure || exitCode === EXIT.wrongPassword || exitCode === EXIT.authFailure || exitCode === EXIT.noCredentials) {
      return wrongPassword();
    }
    if (this.codes.has('ERRCONNECT_ACCOUNT_LOCKED_OUT') || exitCode === EXIT.lockedOut) {
      return { outcome: 'failed', cause: 'locked-out', message: 'Your account is locked after too many wrong passwords. Wait a while or ask your administrator to unlock it.' };
    }
    if ([...PASSWORD_EXPIRED].some((c) => this.codes.has(c)) || exitCode === EXIT.passwordExpired || exitCode === EXIT.passwordMustChange || exitCode === EXIT.passwordCertainlyExpired) {
      return { outcome: 'failed', cause: 'password-expired', message: 'Your password has expired. Change it as your organisation tells you, then connect again.' };
    }
    if ([...ACCOUNT_BARRED].some((c) => this.codes.has(c)) || ([EXIT.accountDisabled, EXIT.accountExpired, EXIT.accountRestriction, EXIT.logonTypeNotGranted, EXIT.accessDenied, EXIT.insufficientPrivileges] as number[]).includes(exitCode)) {
      return { outcome: 'failed', cause: 'account-barred', message: 'Your account may not log on to this desktop remotely. Ask your administrator.' };
    }
    if (!this.connected) {
      // A server that drops the connection during NLA, after the client sent its credentials, is
      // refusing them: FreeRDP's own server (and older Windows) send no error code, they hang up.
      if (this.failedIn === 'CONNECTION_STATE_NLA' && has('ERRCONNECT_CONNECT_TRANSPORT_FAILED')) return wrongPassword();
      if (has('ERRCONNECT_DNS_NAME_NOT_FOUND', 'ERRCONNECT_DNS_ERROR') || exitCode === EXIT.dnsNotFound || exitCode === EXIT.dnsError) {
        return { outcome: 'unreachable', message: `The desktop's address ${this.host} could not be found. Check the network connection, or tell your administrator.` };
      }
      if (has('ERRCONNECT_CONNECT_FAILED', 'ERRCONNECT_CONNECT_TRANSPORT_FAILED') || exitCode === EXIT.connectFailed || exitCode === EXIT.transportFailed || exitCode === EXIT.connFailed) {
        return { outcome: 'unreachable', message: `The desktop at ${where} does not answer. It may be switched off or still starting: try again in a minute.` };
      }
    } else {
      // Exit 0 is the floatbar's close button (it logs ERRCONNECT_CONNECT_CANCELLED too). A
      // signal from elsewhere (OOM killer, shutdown) is no normal end and falls through to failed.
      if (!exit.signal && (has('ERRCONNECT_CONNECT_CANCELLED') || exitCode === 0 || exitCode === EXIT.disconnectByUser)) {
        return { outcome: 'ended', message: 'The session has ended.' };
      }
      if (exitCode === EXIT.logoff) return { outcome: 'ended', message: 'You have logged off from the desktop.' };
      if (exitCode === EXIT.replaced) {
        return { outcome: 'disconnected', message: 'Someone else connected to this desktop, so this session was closed.' };
      }
      if (exitCode === EXIT.idleTimeout || exitCode === EXIT.logonTimeout) {
        return { outcome: 'disconnected', message: 'The desktop closed the session because it was idle. Connect again to continue.' };
      }
      if (exitCode === EXIT.disconnect) {
        return { outcome: 'disconnected', message: 'The desktop closed the connection. Connect again to continue.' };
      }
      if (this.networkLost || exitCode === EXIT.connFailed || has('ERRCONNECT_CONNECT_TRANSPORT_FAILED')) {
        return { outcome: 'disconnected', message: 'The connection to the desktop was lost. Check the network, then connect again.' };
      }
    }
    const how = exit.signal ? `signal ${exit.signal}` : `exit code ${exitCode}`;
    return { outcome: 'failed', message: `The RDP viewer stopped (${how})${this.lastError ? `: ${this.lastError}` : ''}. Try again; if it keeps happening, tell your administrator.` };
  }
}

function wrongPassword(): NativeResult {
  return { outcome: 'wrong-password', cause: 'logon-failure', message: 'The desktop did not accept your user name or password. Check them and connect again.' };
}
