import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BootServerConfigError, bootServerSwitchedOn, parseBootServerConfig } from '../../pxe/config.js';
import { checkAgainstNetwork, describeNetwork, inSubnet } from '../../pxe/network.js';
import { presetFileName, renderClientPresets } from '../../pxe/client-preset.js';

test('boot server config: off and proxy-DHCP on eth0 by default; a mistake names its path', () => {
  const config = parseBootServerConfig(undefined, 'empty');
  assert.equal(config.enabled, false, 'off by default');
  assert.equal(config.mode, 'proxy', 'proxy-DHCP by default: the site\'s DHCP server stays in charge');
  assert.equal(config.interface, 'eth0');
  assert.equal(config.menu.timeoutSeconds, 5);
  assert.equal(config.serialConsole, true);
  assert.equal(config.ipv6RouterAdvertisements, false, 'no router advertisements unless asked for');
  assert.throws(() => parseBootServerConfig({ mode: 'dhcp' }, 'box.yaml'), (e: unknown) => e instanceof BootServerConfigError && /box\.yaml[\s\S]*mode/.test(e.message));
  assert.throws(() => parseBootServerConfig({ mode: 'full' }, 'x'), /full: mode "full" needs a full section/);
  assert.throws(() => parseBootServerConfig({ menu: { timeout: 3 } }, 'x'), /menu: Unrecognized key/, 'unknown keys are mistakes');
  assert.throws(() => parseBootServerConfig({ full: { rangeStart: '10.0.0.300', rangeEnd: '10.0.0.9', router: '10.0.0.1', dnsServers: [] }, mode: 'full' }, 'x'),
    (e: unknown) => /full\.rangeStart: must be an IPv4 address/.test((e as Error).message) && /full\.dnsServers: needs at least one DNS server/.test((e as Error).message));
  assert.throws(() => parseBootServerConfig({ kernelArguments: ['quiet ; boot'] }, 'x'), /kernelArguments\.0: must be one kernel command-line word/);
});

test('boot server config: clients by MAC (any spelling), no MAC twice; presets take only the kiosk\'s keys', () => {
  const config = parseBootServerConfig({
    defaults: { controller: 'https://desktops.example.org', language: 'en' },
    clients: [{ mac: '52-54-00-AB-CD-EF', language: 'zh-CN', autoConnect: 'lab3-pc07', hostname: 'lab3-kiosk-07' }, { mac: '52:54:00:00:00:01' }],
  }, 'x');
  assert.equal(config.clients[0]!.mac, '52:54:00:ab:cd:ef');
  assert.throws(() => parseBootServerConfig({ clients: [{ mac: '52:54:00:00:00:01' }, { mac: '52-54-00-00-00-01' }] }, 'x'), /clients\.1\.mac: 52:54:00:00:00:01 is listed twice/);
  assert.throws(() => parseBootServerConfig({ clients: [{ mac: '52:54:00:00:00:01', boot_server: 'on' }] }, 'x'), /Unrecognized key/);
  assert.throws(() => parseBootServerConfig({ clients: [{ mac: 'nope' }] }, 'x'), /clients\.0\.mac: must be a MAC address/);

  const files = renderClientPresets(config, '10.0.0.2');
  assert.equal(presetFileName('52:54:00:AB:CD:EF'), '52-54-00-ab-cd-ef.conf');
  const own = files.get('52-54-00-ab-cd-ef.conf')!;
  assert.match(own, /^controller = https:\/\/desktops\.example\.org$/m, 'the defaults');
  assert.match(own, /^language = zh-CN$/m, 'the client\'s own value wins');
  assert.match(own, /^auto_connect = lab3-pc07$/m);
  assert.match(own, /^hostname = lab3-kiosk-07$/m);
  assert.match(files.get('52-54-00-00-00-01.conf')!, /^language = en$/m, 'a client without own values gets the defaults');
  assert.match(files.get('default.conf')!, /^controller = https:\/\/desktops\.example\.org$/m);
  for (const text of files.values()) assert.doesNotMatch(text, /boot_server|admin_pin/);
});

test('boot server config: full DHCP must fit the subnet, and give the site\'s router and DNS, never the box itself', () => {
  const net = describeNetwork('eth0', '192.168.7.2', 24);
  assert.deepEqual(net, { interface: 'eth0', address: '192.168.7.2', prefixLength: 24, network: '192.168.7.0', netmask: '255.255.255.0' });
  assert.equal(describeNetwork('eth0', '10.1.2.3', 16).network, '10.1.0.0');
  assert.equal(describeNetwork('eth0', '10.1.2.3', 16).netmask, '255.255.0.0');
  assert.ok(inSubnet('192.168.7.254', net));
  assert.ok(!inSubnet('192.168.8.1', net));
  const good = parseBootServerConfig({ mode: 'full', full: { rangeStart: '192.168.7.100', rangeEnd: '192.168.7.199', router: '192.168.7.1', dnsServers: ['192.168.7.1'] } }, 'x');
  assert.deepEqual(checkAgainstNetwork(good, net), []);
  const bad = parseBootServerConfig({ mode: 'full', full: { rangeStart: '192.168.7.1', rangeEnd: '192.168.8.10', router: '192.168.7.2', dnsServers: ['192.168.7.2'] } }, 'x');
  const problems = checkAgainstNetwork(bad, net).join('\n');
  assert.match(problems, /full\.rangeEnd 192\.168\.8\.10 is outside 192\.168\.7\.0\/24 on eth0/);
  assert.match(problems, /contains this box's own address 192\.168\.7\.2/);
  assert.match(problems, /full\.router is this box's own address/);
  assert.match(problems, /full\.dnsServers contains this box's own address/);
  assert.deepEqual(checkAgainstNetwork(parseBootServerConfig({}, 'x'), net), [], 'proxy mode has nothing to check against the subnet');
});

test('boot server switch in thinkiosk.conf: boot_server = on (any case, quotes, comments around); the last line wins; off by default', () => {
  assert.equal(bootServerSwitchedOn(''), false);
  assert.equal(bootServerSwitchedOn('controller = https://x\nboot_server = on\n'), true);
  assert.equal(bootServerSwitchedOn('\uFEFFBoot_Server = "yes"\r\n'), true);
  assert.equal(bootServerSwitchedOn('boot_server = on\nboot_server = off\n'), false);
  assert.equal(bootServerSwitchedOn('#boot_server = on\n'), false);
});
