import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseWlrRandr, wlrRandrFailure } from '../../app/core/system/wlr-randr.js';
import { parseXrandr, xrandrFailure } from '../../app/core/system/xrandr.js';
import { fixture } from './fixtures.js';

test('xrandr (Xvnc): modes in order, current marked by *', () => {
  const [vnc, ...rest] = parseXrandr(fixture('system/xrandr-1.5.1-query.xvnc-1.12.txt'));
  assert.equal(rest.length, 0);
  assert.equal(vnc!.name, 'VNC-0');
  assert.equal(vnc!.current, '1280x800');
  assert.equal(vnc!.modes.length, 13);
  assert.deepEqual(vnc!.modes.slice(0, 3), ['1280x800', '1920x1200', '1920x1080']);
  assert.ok(vnc!.modes.includes('640x480'));
});

test('xrandr (Xvfb): a single output with its single mode', () => {
  assert.deepEqual(parseXrandr(fixture('system/xrandr-1.5.1-query.xvfb-21.1.7.txt')), [{ name: 'screen', modes: ['1280x1024'], current: '1280x1024' }]);
});

test('xrandr (real GPU): rates on one line, a custom-named mode, * on the second line', () => {
  assert.deepEqual(parseXrandr(fixture('system/xrandr-two-preferred.muffin-issue636.txt')), [{ name: 'DisplayPort-0', modes: ['1920x1080_144.0', '1920x1080'], current: '1920x1080' }]);
});

test('xrandr: disconnected outputs are not offered, their modes not given to another output', () => {
  const text = 'Screen 0: minimum 8 x 8, current 1920 x 1200, maximum 8192 x 8192\nDP-0 disconnected (normal left inverted right x axis y axis)\n   1024x768      60.00\nDP-3 connected 1920x1200+0+0 (normal left inverted right x axis y axis) 518mm x 324mm\n   1920x1200     59.95*+\n';
  assert.deepEqual(parseXrandr(text), [{ name: 'DP-3', modes: ['1920x1200'], current: '1920x1200' }]);
});

test('xrandr failure: no display server', () => {
  assert.match(xrandrFailure({ code: 1, stdout: '', stderr: "Can't open display :39\n" }, 'read the screen settings').message, /cannot reach its display server \(X\)/);
});

test('wlr-randr (two monitors): distinct WxH modes, preferred first, current', () => {
  assert.deepEqual(parseWlrRandr(fixture('system/wlr-randr-two-monitors.nixpkgs-wayland-pr167.txt')), [
    { name: 'eDP-1', modes: ['3840x2160'], current: '3840x2160' },
    { name: 'DP-2', modes: ['3440x1440', '1024x768', '800x600', '640x480'], current: '3440x1440' },
  ]);
});

test('wlr-randr (sway headless): a disabled output without modes has no current mode', () => {
  assert.deepEqual(parseWlrRandr(fixture('system/wlr-randr-0.2.0-sway-1.7-headless.txt')), [{ name: 'HEADLESS-1', modes: [], current: null }]);
});

test('wlr-randr failures (recorded): cage without output management says what works instead; no compositor', () => {
  const cage = wlrRandrFailure({ code: 1, stdout: '', stderr: fixture('system/wlr-randr-0.2.0-cage-0.1.4.exit1.stderr.txt') }, 'read the screen settings');
  assert.equal(cage.kind, 'system');
  assert.match(cage.message, /cannot be changed from the kiosk.*video=HDMI-A-1/);
  const none = wlrRandrFailure({ code: 1, stdout: '', stderr: fixture('system/wlr-randr-0.2.0-no-display.exit1.stderr.txt') }, 'read the screen settings');
  assert.match(none.message, /cannot reach its display server \(Wayland\)/);
});
