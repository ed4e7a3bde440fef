import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RemoteViewerOutput, escapeKeyFileValue, remoteViewerArgs, vvFileContent } from '../../app/core/native/remote-viewer.js';
import type { SpiceTarget } from '../../app/core/native/native-types.js';
import { recordedRun, replay } from './native-replay.js';

const TARGET: SpiceTarget = { host: '10.0.0.7', port: 5901, password: 'tick et\\9', usb: false, fullscreen: true };

test('remote-viewer arguments: no ticket on the command line; kiosk mode and USB per target', () => {
  for (const usb of [false, true]) {
    for (const fullscreen of [false, true]) {
      const args = remoteViewerArgs({ ...TARGET, usb, fullscreen }, '/run/user/0/thinkiosk-vv-x/console.vv');
      assert.ok(!args.some((a) => a.includes('tick')), args.join(' '));
      assert.equal(args.at(-1), '/run/user/0/thinkiosk-vv-x/console.vv', 'the connection file is the one positional argument');
      assert.equal(args.includes('--kiosk'), fullscreen);
      assert.equal(args.includes('--kiosk-quit=on-disconnect'), fullscreen);
      assert.equal(args.includes('--spice-disable-usbredir'), !usb);
      assert.ok(args.includes('--debug'), 'the outcome lines only come with --debug');
    }
  }
  // The recorded runs used these builders: none has a ticket on its command line.
  for (const name of ['remote-viewer-kiosk-connected-usb-then-sigterm', 'remote-viewer-kiosk-wrong-ticket-then-sigterm']) {
    assert.ok(!recordedRun(name).command.some((a) => /secret12|wrongpw/.test(a)));
  }
});

test('vv file: the ticket is escaped into one key, USB keys follow the policy', () => {
  const vv = vvFileContent({ ...TARGET, password: 'a\nfullscreen=0\\' });
  assert.match(vv, /^\[virt-viewer\]\n/);
  assert.ok(vv.includes('password=a\\nfullscreen=0\\\\\n'), vv);
  assert.equal(vv.match(/^fullscreen=/gm)?.length, 1, 'a newline in the ticket cannot add a key');
  assert.ok(vv.includes('\nhost=10.0.0.7\n') && vv.includes('\nport=5901\n') && vv.includes('\ntype=spice\n'));
  assert.ok(vv.includes('\nenable-usbredir=0\n') && vv.includes('\nusb-autoshare=0\n'));
  const usb = vvFileContent({ ...TARGET, usb: true, fullscreen: false });
  assert.ok(usb.includes('\nenable-usbredir=1\n') && usb.includes('\nusb-autoshare=1\n') && usb.includes('\nfullscreen=0\n'));
  assert.ok(!vvFileContent({ ...TARGET, password: null }).includes('password='), 'no ticketing, no password key');
  assert.ok(vvFileContent({ ...TARGET, host: '[fd00::7]' }).includes('\nhost=fd00::7\n'));
  assert.equal(escapeKeyFileValue(' lead\ttab\r'), '\\slead\\ttab\\r');
});

const spice = (name: string) => replay(name, new RemoteViewerOutput(name.includes('refused') || name.includes('dns') ? 'nosuchhost.invalid' : '127.0.0.1', 16011));

test('recorded remote-viewer: connected in window and kiosk mode', () => {
  for (const name of ['remote-viewer-connected-windowed-then-sigterm', 'remote-viewer-kiosk-connected-usb-then-sigterm']) {
    const run = spice(name);
    assert.ok(run.connectedAtLine !== null, name);
    assert.equal(run.decided, null, name);
    assert.equal(run.result.outcome, 'failed', 'SIGTERM from elsewhere is no normal end');
    // The person reads a sentence; the viewer's own last line (GTK chatter) goes to the log only.
    assert.equal(run.result.message, 'The SPICE viewer stopped (signal 15). Try again; if it keeps happening, tell your administrator.', name);
    assert.match(run.result.detail ?? '', /^last output: \S/, `${name}: the log still gets the viewer's last line`);
  }
});

test('recorded remote-viewer: a wrong ticket is known from its line, before the dialog', () => {
  const run = spice('remote-viewer-kiosk-wrong-ticket-then-sigterm');
  assert.equal(run.connectedAtLine, null);
  assert.equal(run.decided?.result.outcome, 'wrong-password');
  assert.match(run.lines[run.decided?.line ?? -1] ?? '', /main channel: auth failure/);
  assert.equal(run.result.outcome, 'wrong-password', 'the decision stands after the process is stopped');
});

test('recorded remote-viewer: refused and unknown host are unreachable', () => {
  const refused = spice('remote-viewer-kiosk-connection-refused-then-sigterm');
  assert.equal(refused.decided?.result.outcome, 'unreachable');
  assert.match(refused.result.message, /does not answer/);
  const dns = spice('remote-viewer-kiosk-dns-not-found-then-sigterm');
  assert.equal(dns.decided?.result.outcome, 'unreachable');
  assert.match(dns.result.message, /nosuchhost\.invalid could not be found/);
});

test('recorded remote-viewer: server gone mid-session is disconnected (kiosk mode exits, window mode would wait)', () => {
  for (const name of ['remote-viewer-kiosk-server-killed-mid-session', 'remote-viewer-windowed-server-killed-then-sigterm']) {
    const run = spice(name);
    assert.ok(run.connectedAtLine !== null && run.decided !== null && run.decided.line > run.connectedAtLine, name);
    assert.equal(run.result.outcome, 'disconnected', name);
  }
});

test('recorded remote-viewer: no X display', () => {
  const run = spice('remote-viewer-no-display');
  assert.equal(run.result.outcome, 'failed');
  assert.match(run.result.message, /could not open its window/);
});

test('remote-viewer exit 0 after connecting (window closed by the user) is ended', () => {
  const parser = new RemoteViewerOutput('127.0.0.1', 5900);
  assert.deepEqual(parser.line('(remote-viewer:1): virt-viewer-DEBUG: 06:05:26.152: creating spice display (#:0)'), { kind: 'connected' });
  assert.equal(parser.finish({ exitCode: 0, signal: 0 }).outcome, 'ended');
});
