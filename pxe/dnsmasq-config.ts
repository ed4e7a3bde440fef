/**
 * dnsmasq's configuration for the boot server, written from the boot server configuration and the
 * interface's network: DHCP (proxy or full), TFTP for the first stage, the PXE answers per client
 * architecture, and nothing else (no DNS: port=0).
 *
 * Client detection: DHCP option 93 (client architecture) tells BIOS (0), UEFI x86-64 (7, 9) and
 * UEFI ARM64 (11) apart; option 175 marks iPXE, which gets the menu instead of another iPXE;
 * Raspberry Pis send architecture 0 like a BIOS PC and are told apart by their MAC prefix.
 */
import type { BootServerConfig } from './config.js';
import type { ServedNetwork } from './network.js';
import { RASPBERRY_PI_MAC_PREFIXES, RASPBERRY_PI_MENU_TEXT } from './raspberry-pi.js';

export const MENU_FILE = 'menu.ipxe';
/** First-stage loaders, by the client's firmware. */
export const LOADERS = { bios: 'undionly.kpxe', efiX64: 'snponly.efi', efiArm64: 'ipxe-arm64.efi' } as const;

export interface DnsmasqPaths {
  tftpRoot: string;
  leaseFile: string;
}

export function renderDnsmasqConfig(config: BootServerConfig, net: ServedNetwork, paths: DnsmasqPaths, source: string): string {
  const out: string[] = [];
  const add = (...lines: string[]): void => void out.push(...lines);
  add(
    `# thinkiosk boot server (${config.mode === 'proxy' ? 'proxy-DHCP' : 'full DHCP'} on ${net.interface}, ${net.address}/${net.prefixLength}).`,
    `# Written by the boot server from ${source} (pxe/dnsmasq-config.ts): edit that, not this file.`,
    'port=0',
    `interface=${net.interface}`,
    'bind-interfaces',
    'log-dhcp',
    `dhcp-leasefile=${paths.leaseFile}`,
    'enable-tftp',
    `tftp-root=${paths.tftpRoot}`,
    // Clients may only read what the boot server put there.
    'tftp-no-fail',
    '',
    '# Client architecture (DHCP option 93), iPXE (option 175), Raspberry Pi (MAC prefix).',
    'dhcp-match=set:bios,option:client-arch,0',
    'dhcp-match=set:efi-x64,option:client-arch,7',
    'dhcp-match=set:efi-x64,option:client-arch,9',
    'dhcp-match=set:efi-arm64,option:client-arch,11',
    'dhcp-match=set:ipxe,175',
    ...RASPBERRY_PI_MAC_PREFIXES.map((prefix) => `dhcp-mac=set:rpi,${prefix}:*:*:*`),
    '',
  );

  if (config.mode === 'proxy') {
    add(
      '# Proxy-DHCP: the site\'s DHCP server gives the addresses; this box only answers PXE clients',
      '# with where to boot from (option 43 menu + TFTP server), on the same broadcast.',
      `dhcp-range=${net.network},proxy,${net.netmask}`,
      'pxe-prompt="thinkiosk",0',
      `pxe-service=tag:rpi,x86PC,"${RASPBERRY_PI_MENU_TEXT}"`,
      `pxe-service=tag:!rpi,tag:!ipxe,x86PC,"thinkiosk (BIOS)",${LOADERS.bios}`,
      `pxe-service=tag:!rpi,tag:ipxe,x86PC,"thinkiosk",${MENU_FILE}`,
      `pxe-service=tag:!ipxe,X86-64_EFI,"thinkiosk (UEFI)",${LOADERS.efiX64}`,
      `pxe-service=tag:!ipxe,BC_EFI,"thinkiosk (UEFI)",${LOADERS.efiX64}`,
      `pxe-service=tag:ipxe,X86-64_EFI,"thinkiosk",${MENU_FILE}`,
      `pxe-service=tag:ipxe,BC_EFI,"thinkiosk",${MENU_FILE}`,
      `pxe-service=tag:!ipxe,ARM64_EFI,"thinkiosk (UEFI ARM64)",${LOADERS.efiArm64}`,
      `pxe-service=tag:ipxe,ARM64_EFI,"thinkiosk",${MENU_FILE}`,
    );
  } else {
    const full = config.full!;
    add(
      '# Full DHCP: this box gives the addresses (an isolated lab). Clients get the site\'s router and',
      '# DNS servers, never this box, which routes nothing and answers no DNS.',
      `dhcp-range=${full.rangeStart},${full.rangeEnd},${net.netmask},${full.leaseTime}`,
      `dhcp-option=option:router,${full.router}`,
      `dhcp-option=option:dns-server,${full.dnsServers.join(',')}`,
      ...(full.domain ? [`dhcp-option=option:domain-name,${full.domain}`, `domain=${full.domain}`] : []),
      'dhcp-authoritative',
      // The boot file in the DHCP answer itself: every PXE firmware reads it.
      `dhcp-boot=tag:!rpi,tag:bios,tag:!ipxe,${LOADERS.bios},,${net.address}`,
      `dhcp-boot=tag:efi-x64,tag:!ipxe,${LOADERS.efiX64},,${net.address}`,
      `dhcp-boot=tag:efi-arm64,tag:!ipxe,${LOADERS.efiArm64},,${net.address}`,
      `dhcp-boot=tag:ipxe,${MENU_FILE},,${net.address}`,
      // The Pi boot loader wants its menu text in option 43 and the TFTP server in option 66.
      `pxe-service=tag:rpi,x86PC,"${RASPBERRY_PI_MENU_TEXT}"`,
      `dhcp-option=tag:rpi,option:tftp-server,${net.address}`,
    );
  }

  if (config.ipv6RouterAdvertisements) {
    add(
      '',
      '# Router advertisements with lifetime 0 (no route through this box) for the interface\'s own',
      '# IPv6 prefix: iPXE stops waiting for IPv6 at once instead of after ~13 s.',
      'enable-ra',
      `dhcp-range=::,constructor:${net.interface},ra-only`,
      `ra-param=${net.interface},0,0`,
    );
  }
  return `${out.join('\n')}\n`;
}
