import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FreerdpOutput, freerdpArgs, freerdpPromptReply } from '../../app/core/native/freerdp.js';
import type { RdpTarget } from '../../app/core/native/native-types.js';
import { replay } from './native-replay.js';

const TARGET: RdpTarget = { host: '10.0.0.5', port: 3389, username: 'alice', password: 'S3cret pass/word:1', usb: false, sound: false, fullscreen: false };

test('xfreerdp arguments: the password is never among them, whatever the options', () => {
  for (const usb of [false, true]) {
    for (const sound of [false, true]) {
      for (const fullscreen of [false, true]) {
        for (const domain of [undefined, 'LAB']) {
          const args = freerdpArgs({ ...TARGET, usb, sound, fullscreen, ...(domain ? { domain } : {}) });
          assert.ok(!args.some((a) => a.includes(TARGET.password)), args.join(' '));
          assert.ok(!args.some((a) => a.startsWith('/p:')), 'no /p: at all');
          assert.ok(args.includes('/from-stdin:force'), 'credentials come through the pty');
        }
      }
    }
  }
});

test('xfreerdp arguments: target and policy', () => {
  assert.deepEqual(freerdpArgs(TARGET), [
    '/v:10.0.0.5:3389', '/u:alice', '/from-stdin:force', '/cert:tofu', '/dynamic-resolution', '/audio-mode:2',
    '/log-filters:com.freerdp.core.connection:DEBUG',
  ]);
  const full = freerdpArgs({ ...TARGET, domain: 'LAB', usb: true, sound: true, fullscreen: true }, 'deny');
  assert.ok(full.includes('/d:LAB'));
  assert.ok(full.includes('/cert:deny'));
  assert.ok(full.includes('/f'));
  assert.ok(full.some((a) => a.startsWith('/floatbar:')), 'fullscreen has a close button');
  assert.ok(full.includes('/sound') && !full.includes('/audio-mode:2'));
  assert.ok(full.includes('/drive:hotplug,*') && full.includes('/usb:auto'), 'USB allowed: drives and devices');
  const noUsb = freerdpArgs({ ...TARGET, usb: false });
  assert.ok(!noUsb.some((a) => a.startsWith('/drive') || a.startsWith('/usb')), 'USB forbidden: nothing redirected');
  assert.equal(freerdpArgs({ ...TARGET, host: 'fd00::5' })[0], '/v:[fd00::5]:3389');
});

test('xfreerdp prompts: answered only when the prompt ends the output', () => {
  assert.deepEqual(freerdpPromptReply('Password: ', TARGET), { prompt: 'password', reply: 'S3cret pass/word:1\r' });
  assert.deepEqual(freerdpPromptReply('[06:11:09:824] [1:1] [INFO][x] - y\nDomain: ', TARGET), { prompt: 'domain', reply: '\r' });
  assert.deepEqual(freerdpPromptReply('Domain: ', { ...TARGET, domain: 'LAB' }), { prompt: 'domain', reply: 'LAB\r' });
  assert.deepEqual(freerdpPromptReply('Username: ', TARGET), { prompt: 'username', reply: 'alice\r' });
  assert.equal(freerdpPromptReply('Password: x', TARGET), null);
  assert.equal(freerdpPromptReply('[ERROR][com.freerdp.core] - Password: ', TARGET), null, 'a log line is no prompt');
  assert.equal(freerdpPromptReply('', TARGET), null);
});

// Recorded runs (test/fixtures/native/README.md): output and exit as they happened.
const rdp = (name: string) => replay(name, new FreerdpOutput('127.0.0.1', name.includes('refused') ? 16002 : 16001));

test('recorded xfreerdp: connected (NLA), then SIGTERM from elsewhere is no normal end', () => {
  const run = rdp('xfreerdp-nla-connected-then-sigterm');
  assert.equal(run.connectedAtLine !== null, true);
  assert.equal(run.result.outcome, 'failed');
  assert.match(run.result.message, /signal 15/);
  const all = rdp('xfreerdp-nla-connected-all-options');
  assert.ok(all.connectedAtLine !== null, 'sound errors (no card) do not stop the session');
  assert.ok(rdp('xfreerdp-cert-tofu-first-contact').connectedAtLine !== null, 'tofu accepts a first certificate');
});

test('recorded xfreerdp: wrong password against an NLA server that just hangs up', () => {
  const run = rdp('xfreerdp-nla-wrong-password');
  assert.equal(run.connectedAtLine, null);
  assert.equal(run.result.outcome, 'wrong-password');
  assert.equal(run.result.cause, 'logon-failure');
  assert.match(run.result.message, /user name or password/);
});

test('recorded xfreerdp: refused port and unknown host are unreachable, with different words', () => {
  const refused = rdp('xfreerdp-connection-refused');
  assert.equal(refused.result.outcome, 'unreachable');
  assert.match(refused.result.message, /127\.0\.0\.1:16002 does not answer/);
  const dns = rdp('xfreerdp-dns-name-not-found');
  assert.equal(dns.result.outcome, 'unreachable');
  assert.match(dns.result.message, /could not be found/);
});

test('recorded xfreerdp: server gone mid-session is disconnected; floatbar close is ended', () => {
  const killed = rdp('xfreerdp-server-killed-mid-session');
  assert.ok(killed.connectedAtLine !== null);
  assert.equal(killed.result.outcome, 'disconnected');
  const closed = rdp('xfreerdp-floatbar-close-button');
  assert.ok(closed.connectedAtLine !== null);
  assert.deepEqual(closed.result, { outcome: 'ended', message: 'The session has ended.' });
});

test('recorded xfreerdp: changed and untrusted certificates', () => {
  const changed = rdp('xfreerdp-cert-tofu-changed');
  assert.equal(changed.result.outcome, 'certificate');
  assert.equal(changed.result.cause, 'certificate-changed');
  assert.match(changed.result.message, /has changed/);
  const denied = rdp('xfreerdp-cert-deny-self-signed');
  assert.equal(denied.result.outcome, 'certificate');
  assert.equal(denied.result.cause, 'certificate-untrusted');
  assert.match(denied.result.message, /does not trust/);
});

test('recorded xfreerdp: no X display is a kiosk problem, said so', () => {
  const run = rdp('xfreerdp-no-display');
  assert.equal(run.result.outcome, 'failed');
  assert.match(run.result.message, /could not open its window/);
});

test('recorded xfreerdp against xrdp (TLS, no NLA): a wrong password is not visible to the client', () => {
  // xrdp takes the credentials inside the session and shows its own dialog there, so the session
  // counts as connected: the person at the kiosk sees xrdp's message and can type again.
  assert.ok(rdp('xfreerdp-xrdp-tls-good-password-then-sigterm').connectedAtLine !== null);
  const wrong = rdp('xfreerdp-xrdp-tls-wrong-password-then-sigterm');
  assert.ok(wrong.connectedAtLine !== null);
  assert.ok(!wrong.lines.some((line) => /ERRCONNECT_|LOGON_FAILURE/.test(line)));
});

// Not recorded (no Windows server here): lines in the format FreeRDP 2.11 logs them
// (freerdp_set_last_error_ex in libfreerdp/core/errconnect.c), with its exit codes.
test('Windows-style refusals: LOGON_FAILURE / WRONG_PASSWORD codes and account problems', () => {
  const parse = (line: string, exitCode: number) => {
    const p = new FreerdpOutput('win.example', 3389);
    p.line(line);
    return p.finish({ exitCode, signal: 0 });
  };
  assert.equal(parse('[ERROR][com.freerdp.core] - nla_recv_pdu:freerdp_set_last_error_ex ERRCONNECT_LOGON_FAILURE [0x00020014]', 134).outcome, 'wrong-password');
  assert.equal(parse('[ERROR][com.freerdp.core] - nla_recv_pdu:freerdp_set_last_error_ex ERRCONNECT_LOGON_FAILURE [0x00020014]', 134).cause, 'logon-failure');
  assert.equal(parse('[ERROR][com.freerdp.core] - nla_recv_pdu:freerdp_set_last_error_ex ERRCONNECT_ACCOUNT_LOCKED_OUT [0x00020016]', 135).cause, 'locked-out');
  assert.equal(parse('', 135).cause, 'locked-out', 'the exit code alone says so too');
  assert.equal(parse('[ERROR][com.freerdp.core] - nla_recv_pdu:freerdp_set_last_error_ex ERRCONNECT_ACCOUNT_DISABLED [0x00020012]', 151).cause, 'account-barred');
  assert.equal(parse('[ERROR][com.freerdp.core] - nla_recv_pdu:freerdp_set_last_error_ex ERRCONNECT_PASSWORD_EXPIRED [0x0002000E]', 148).cause, 'password-expired');
  assert.equal(parse('[ERROR][com.freerdp.core] - nla_recv_pdu:freerdp_set_last_error_ex ERRCONNECT_WRONG_PASSWORD [0x0002001B]', 154).outcome, 'wrong-password');
  assert.match(parse('[ERROR][com.freerdp.core] - nla_recv_pdu:freerdp_set_last_error_ex ERRCONNECT_PASSWORD_EXPIRED [0x0002000E]', 148).message, /expired/);
  assert.match(parse('[ERROR][com.freerdp.core] - nla_recv_pdu:freerdp_set_last_error_ex ERRCONNECT_ACCOUNT_LOCKED_OUT [0x00020016]', 135).message, /locked/);
  const odd = parse('[ERROR][com.freerdp.core] - something nobody expected', 137);
  assert.equal(odd.outcome, 'failed');
  assert.match(odd.message, /exit code 137\): something nobody expected/, 'an unknown failure quotes the line that said so');
});
