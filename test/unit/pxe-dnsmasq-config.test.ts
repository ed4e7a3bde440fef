import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBootServerConfig } from '../../pxe/config.js';
import { renderDnsmasqConfig } from '../../pxe/dnsmasq-config.js';
import { renderIpxeMenu } from '../../pxe/ipxe-menu.js';
import { describeNetwork } from '../../pxe/network.js';
import { piTftpDirectories, renderPiCommandLine } from '../../pxe/raspberry-pi.js';

const net = describeNetwork('eth0', '192.168.7.2', 24);
const paths = { tftpRoot: '/run/thinkiosk/boot-server/tftp', leaseFile: '/run/thinkiosk/boot-server/leases' };
const lines = (text: string): string[] => text.split('\n');

test('dnsmasq, proxy-DHCP: no addresses, no router, no DNS; the PXE menu sends each firmware its loader and iPXE the menu', () => {
  const text = renderDnsmasqConfig(parseBootServerConfig({}, 'x'), net, paths, 'box.yaml');
  const conf = lines(text);
  assert.ok(conf.includes('port=0'), 'no DNS server');
  assert.ok(conf.includes('interface=eth0') && conf.includes('bind-interfaces'), 'only on the configured interface');
  assert.ok(conf.includes('dhcp-range=192.168.7.0,proxy,255.255.255.0'), 'proxy on the box\'s subnet');
  assert.ok(!text.includes('option:router') && !text.includes('dns-server') && !text.includes('dhcp-boot='), 'a proxy gives no addresses, router or DNS');
  assert.ok(conf.includes(`tftp-root=${paths.tftpRoot}`));
  for (const [arch, tag] of [['0', 'bios'], ['7', 'efi-x64'], ['9', 'efi-x64'], ['11', 'efi-arm64']]) {
    assert.ok(conf.includes(`dhcp-match=set:${tag},option:client-arch,${arch}`), `client architecture ${arch} → ${tag}`);
  }
  assert.ok(conf.includes('dhcp-match=set:ipxe,175'), 'iPXE recognised by its option 175');
  assert.ok(conf.includes('pxe-service=tag:!rpi,tag:!ipxe,x86PC,"thinkiosk (BIOS)",undionly.kpxe'), 'BIOS PXE ROMs chain to iPXE');
  assert.ok(conf.includes('pxe-service=tag:!ipxe,X86-64_EFI,"thinkiosk (UEFI)",snponly.efi'), 'UEFI PCs get snponly.efi (GRUB ignores proxy-DHCP offers)');
  assert.ok(conf.includes('pxe-service=tag:!ipxe,ARM64_EFI,"thinkiosk (UEFI ARM64)",ipxe-arm64.efi'));
  assert.ok(conf.includes('pxe-service=tag:ipxe,X86-64_EFI,"thinkiosk",menu.ipxe'), 'iPXE gets the menu instead of itself again');
  assert.ok(conf.includes('pxe-service=tag:rpi,x86PC,"Raspberry Pi Boot"'), 'a Pi gets the menu text its boot loader looks for');
  assert.ok(conf.includes('dhcp-mac=set:rpi,dc:a6:32:*:*:*'), 'Pi 4 by MAC prefix');
  assert.ok(conf.includes('dhcp-mac=set:rpi,2c:cf:67:*:*:*'), 'Pi 5 by MAC prefix');
  assert.match(text, /^# Written by the boot server from box\.yaml/m, 'says where it comes from');
  assert.ok(!text.includes('enable-ra'), 'no router advertisements by default');
});

test('dnsmasq, full DHCP: the range, the site\'s router and DNS, the boot file in the answer per firmware; RAs with lifetime 0 when asked', () => {
  const config = parseBootServerConfig({
    mode: 'full', ipv6RouterAdvertisements: true,
    full: { rangeStart: '192.168.7.100', rangeEnd: '192.168.7.199', leaseTime: '2h', router: '192.168.7.1', dnsServers: ['192.168.7.1', '9.9.9.9'], domain: 'lab3.example' },
  }, 'x');
  const conf = lines(renderDnsmasqConfig(config, net, paths, 'x'));
  assert.ok(conf.includes('dhcp-range=192.168.7.100,192.168.7.199,255.255.255.0,2h'));
  assert.ok(conf.includes('dhcp-option=option:router,192.168.7.1'));
  assert.ok(conf.includes('dhcp-option=option:dns-server,192.168.7.1,9.9.9.9'));
  assert.ok(conf.includes('dhcp-option=option:domain-name,lab3.example'));
  assert.ok(conf.includes('dhcp-boot=tag:!rpi,tag:bios,tag:!ipxe,undionly.kpxe,,192.168.7.2'));
  assert.ok(conf.includes('dhcp-boot=tag:efi-x64,tag:!ipxe,snponly.efi,,192.168.7.2'));
  assert.ok(conf.includes('dhcp-boot=tag:ipxe,menu.ipxe,,192.168.7.2'));
  assert.ok(conf.includes('dhcp-option=tag:rpi,option:tftp-server,192.168.7.2'), 'the Pi\'s TFTP server (option 66)');
  assert.ok(conf.includes('enable-ra') && conf.includes('ra-param=eth0,0,0'), 'RAs announce no route through the box');
});

test('iPXE menu: timeout, kernel and initramfs over HTTP from the box, initrd= for UEFI, the boot card, serial console; retries on failure', () => {
  const menu = renderIpxeMenu({ serverAddress: '192.168.7.2', httpPort: 8069, timeoutSeconds: 5, serialConsole: true, kernelArguments: ['nomodeset'], arches: ['amd64', 'arm64'] });
  assert.match(menu, /^#!ipxe\n/);
  assert.match(menu, /^set tk-base http:\/\/192\.168\.7\.2:8069$/m);
  assert.match(menu, /^choose --timeout 5000 --default tk-kiosk tk-choice \|\| goto tk-kiosk$/m);
  const kernel = menu.split('\n').find((line) => line.startsWith('kernel '))!;
  assert.match(kernel, /^kernel \$\{tk-base\}\/\$\{tk-arch\}\/vmlinuz initrd=initrd\.img /, 'initrd= names the initramfs for the EFI stub');
  assert.match(kernel, / BOOTIF=01-\$\{netX\/mac:hexhyp\} /, 'the initramfs knows which card booted');
  assert.match(kernel, / thinkiosk\.server=192\.168\.7\.2:8069 thinkiosk\.root=\$\{tk-base\}\/\$\{tk-arch\}\/root\.squashfs /);
  assert.match(kernel, / nomodeset \|\| goto tk-failed$/, 'the admin\'s extra kernel arguments');
  assert.match(menu, /^set tk-console console=tty1 console=ttyS0,115200$/m, 'screen and serial console (the serial one last: /dev/console)');
  assert.match(menu, /^initrd --name initrd\.img \$\{tk-base\}\/\$\{tk-arch\}\/initrd\.img \|\| goto tk-failed$/m);
  assert.match(menu, /^:tk-failed\n[\s\S]*thinkiosk cannot start[\s\S]*goto tk-boot$/m, 'a failed download says so and tries again');
  assert.doesNotMatch(menu, /tk-no-arch \|\|/, 'both architectures there: no "missing" branch');

  const quick = renderIpxeMenu({ serverAddress: '192.168.7.2', httpPort: 8069, timeoutSeconds: 0, serialConsole: false, kernelArguments: [], arches: ['amd64'] });
  assert.doesNotMatch(quick, /^choose /m, 'timeout 0: straight to the kiosk');
  assert.doesNotMatch(quick, /ttyS0/, 'no serial console when switched off');
  assert.match(quick, /^iseq \$\{tk-arch\} arm64 && goto tk-no-arch \|\|$/m, 'an ARM64 machine is told there is no kiosk for it');
});

test('Raspberry Pi: cmdline.txt names the boot server and the arm64 root; TFTP directories per listed serial, plus the root for any Pi', () => {
  const cmdline = renderPiCommandLine({ serverAddress: '192.168.7.2', httpPort: 8069, serialConsole: true, kernelArguments: [] });
  assert.match(cmdline, /^console=tty1 console=ttyS1,115200 /);
  assert.match(cmdline, / thinkiosk\.root=http:\/\/192\.168\.7\.2:8069\/arm64\/root\.squashfs /);
  assert.match(cmdline, /\n$/);
  assert.deepEqual(piTftpDirectories(parseBootServerConfig({ raspberryPi: { serials: ['1A2B3C4D'] } }, 'x')), ['', '1a2b3c4d']);
  assert.deepEqual(piTftpDirectories(parseBootServerConfig({ raspberryPi: { serials: ['1a2b3c4d'], anySerial: false } }, 'x')), ['1a2b3c4d']);
  assert.throws(() => parseBootServerConfig({ raspberryPi: { serials: ['123'] } }, 'x'), /raspberryPi\.serials\.0: must be a Raspberry Pi serial number/);
});
