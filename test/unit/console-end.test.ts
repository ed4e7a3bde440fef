/**
 * Why a console ended, in words: the page's sentence for every console close code of the contract
 * (in both languages), VNC servers' refusals (TigerVNC's blacklist is not a wrong password), a plain
 * drop that stays "lost", and the kiosk relay's code for a refusal before the websocket opened.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CONSOLE_CLOSE, consoleCloseName } from '../../contract/console-close.js';
import { refusalCode } from '../../app/core/kiosk-console-relay.js';
import { NativeCause } from '../../app/core/kiosk-api.js';
import { consoleCloseMessage, CONSOLE_CLOSE_MESSAGES, rfbEarlyRefusal, vncRefusalMessage } from '../../app/ui/console-end.js';
import { setLanguage, t } from '../../app/ui/i18n.js';

test('[kiosk] every console close code of the contract has its own sentence, in English and Chinese', () => {
  const seen = new Set<string>();
  for (const [name, code] of Object.entries(CONSOLE_CLOSE)) {
    const key = consoleCloseMessage(code);
    assert.ok(key, `no sentence for ${name} (${code})`);
    assert.equal(key, CONSOLE_CLOSE_MESSAGES[consoleCloseName(code)!]);
    assert.ok(!seen.has(key), `${name} shares its sentence with another cause`);
    seen.add(key);
    for (const language of ['en', 'zh-CN'] as const) {
      setLanguage(language);
      const sentence = t(key, { name: 'Lab PC 7' });
      assert.ok(sentence.length > 10 && !sentence.includes('{'), `${language} ${key}: ${sentence}`);
      assert.notEqual(sentence, t('session.lost', { name: 'Lab PC 7' }), 'a cause is not "the connection was lost"');
    }
  }
  setLanguage('en');
  assert.match(t(consoleCloseMessage(CONSOLE_CLOSE.desktopRefused)!, { name: 'Lab PC 7' }), /^Lab PC 7 refused the connection: it may be switched off/);
});

test('[kiosk] a close code that names no cause (normal, going away, dropped, unknown) is "the connection was lost"', () => {
  for (const code of [1000, 1001, 1005, 1006, 1011, 4000, 4999, null, undefined]) assert.equal(consoleCloseMessage(code), null, String(code));
});

test('[kiosk] a VNC server that refuses after too many attempts (TigerVNC, x11vnc blacklists) is told apart from a wrong password', () => {
  setLanguage('en');
  for (const reason of ['Too many security failures', 'Too many authentication failures', 'Connection rejected: host blacklisted']) {
    assert.equal(vncRefusalMessage(reason), 'console.vnc-too-many-attempts', reason);
  }
  assert.equal(t('console.vnc-too-many-attempts'), 'The desktop refused the connection: too many attempts from this controller. Wait a minute and try again; tell your administrator if it keeps happening.');
  for (const reason of ['Authentication failure', 'Authentication failed', '', undefined]) assert.equal(vncRefusalMessage(reason), 'session.wrong-password', String(reason));
});

test('[kiosk] the local relay turns a refusal before the websocket opened into the code for its cause', () => {
  assert.equal(refusalCode(403, 'forbidden'), CONSOLE_CLOSE.ticketInvalid, 'the controller relay refuses forged or expired tickets as forbidden');
  assert.equal(refusalCode(409, 'not-ready'), CONSOLE_CLOSE.desktopRefused, 'the controller relay: the desktop\'s server does not answer');
  assert.equal(refusalCode(429, null), CONSOLE_CLOSE.tooManyConsoles);
  assert.equal(refusalCode(429, 'too-many-attempts'), CONSOLE_CLOSE.tooManyConsoles);
  assert.equal(refusalCode(503, null), CONSOLE_CLOSE.controllerStopping);
  assert.equal(refusalCode(400, null), CONSOLE_CLOSE.controllerRefused, 'Nova\'s proxy with a bare status');
  assert.equal(refusalCode(500, 'internal'), CONSOLE_CLOSE.controllerRefused);
});

test('[kiosk] TigerVNC\'s refusal of a blacklisted address, sent at once with its version, is read from the stream\'s first bytes', () => {
  // As Xvnc 1.12 sends it to a blacklisted address (captured from the Xvnc this project tests with).
  const refusal = Buffer.concat([Buffer.from('RFB 003.003\n'), Buffer.from([0, 0, 0, 0, 0, 0, 0, 0x1a]), Buffer.from('Too many security failures')]);
  assert.equal(rfbEarlyRefusal(new Uint8Array(refusal)), 'Too many security failures');
  assert.equal(vncRefusalMessage(rfbEarlyRefusal(new Uint8Array(refusal))!), 'console.vnc-too-many-attempts');
  assert.equal(rfbEarlyRefusal(new Uint8Array(refusal.subarray(0, 30))), null, 'cut short');
  assert.equal(rfbEarlyRefusal(new Uint8Array(Buffer.from('RFB 003.008\n'))), null, 'a normal start');
  assert.equal(rfbEarlyRefusal(new Uint8Array(Buffer.concat([Buffer.from('RFB 003.003\n'), Buffer.from([0, 0, 0, 2]), Buffer.alloc(16)]))), null, 'VncAuth offered');
  assert.equal(rfbEarlyRefusal(new Uint8Array(Buffer.from('HTTP/1.0 400 Bad Request\r\n\r\n'))), null);
});

test('[kiosk] an RDP desktop\'s own reasons (logon failure, account locked out, certificate changed...) each have a sentence in both languages', () => {
  const seen = new Set<string>();
  for (const cause of NativeCause.options) {
    for (const language of ['en', 'zh-CN'] as const) {
      setLanguage(language);
      const sentence = t(`native.${cause}`, { name: 'Lab PC 7' });
      assert.ok(sentence.length > 10 && !sentence.includes('{'), `${language} ${cause}: ${sentence}`);
      assert.ok(!seen.has(sentence), `${cause} shares its sentence`);
      seen.add(sentence);
    }
  }
  setLanguage('en');
  assert.equal(t('native.locked-out'), 'Your account is locked after too many wrong passwords. Wait a while or ask your administrator to unlock it.');
});
