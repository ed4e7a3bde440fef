/**
 * The LAN the boot server answers on: the interface's address and subnet, read from the running
 * system, and the checks that keep a configuration from handing out addresses it must not (the
 * box's own, or outside the subnet).
 */
import { networkInterfaces } from 'node:os';
import { BootServerConfigError, type BootServerConfig } from './config.js';

export interface ServedNetwork {
  interface: string;
  /** This box's address on the interface: TFTP, HTTP and proxy-DHCP answers come from it. */
  address: string;
  prefixLength: number;
  /** e.g. 10.88.0.0 */
  network: string;
  /** e.g. 255.255.255.0 */
  netmask: string;
}

export function ipToNumber(ip: string): number {
  return ip.split('.').reduce((value, part) => value * 256 + Number(part), 0);
}

export function numberToIp(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

function maskNumber(prefixLength: number): number {
  return prefixLength === 0 ? 0 : (0xffffffff - (2 ** (32 - prefixLength) - 1));
}

export function describeNetwork(iface: string, address: string, prefixLength: number): ServedNetwork {
  const mask = maskNumber(prefixLength);
  // Bitwise operators are signed 32-bit in JavaScript: stay with arithmetic on unsigned values.
  const network = ipToNumber(address) - (ipToNumber(address) % 2 ** (32 - prefixLength));
  return { interface: iface, address, prefixLength, network: numberToIp(network), netmask: numberToIp(mask) };
}

export function inSubnet(ip: string, net: ServedNetwork): boolean {
  const size = 2 ** (32 - net.prefixLength);
  const start = ipToNumber(net.network);
  return ipToNumber(ip) >= start && ipToNumber(ip) < start + size;
}

/** The interface's address as the system has it now (the box must already be on the LAN). */
export function findServedNetwork(config: BootServerConfig, interfaces = networkInterfaces()): ServedNetwork {
  const addresses = (interfaces[config.interface] ?? []).filter((entry) => entry.family === 'IPv4' && !entry.internal);
  if (addresses.length === 0) {
    const known = Object.keys(interfaces).filter((name) => name !== 'lo').join(', ') || 'none';
    throw new BootServerConfigError(`the network interface ${config.interface} has no IPv4 address (interfaces here: ${known}); connect it or set "interface" in the boot server configuration`);
  }
  const chosen = config.address ? addresses.find((entry) => entry.address === config.address) : addresses[0];
  if (!chosen) {
    throw new BootServerConfigError(`address ${config.address} is not on ${config.interface} (it has ${addresses.map((entry) => entry.address).join(', ')})`);
  }
  const prefixLength = Number((chosen.cidr ?? '/24').split('/')[1]);
  return describeNetwork(config.interface, chosen.address, prefixLength);
}

/** Mistakes that only show against the real network: each a sentence naming the setting. */
export function checkAgainstNetwork(config: BootServerConfig, net: ServedNetwork): string[] {
  const problems: string[] = [];
  if (config.mode !== 'full' || !config.full) return problems;
  const { rangeStart, rangeEnd, router, dnsServers } = config.full;
  const where = `${net.network}/${net.prefixLength} on ${net.interface}`;
  if (!inSubnet(rangeStart, net)) problems.push(`full.rangeStart ${rangeStart} is outside ${where}`);
  if (!inSubnet(rangeEnd, net)) problems.push(`full.rangeEnd ${rangeEnd} is outside ${where}`);
  if (ipToNumber(rangeStart) > ipToNumber(rangeEnd)) problems.push(`full.rangeStart ${rangeStart} comes after full.rangeEnd ${rangeEnd}`);
  const own = ipToNumber(net.address);
  if (own >= ipToNumber(rangeStart) && own <= ipToNumber(rangeEnd)) problems.push(`the range ${rangeStart}-${rangeEnd} contains this box's own address ${net.address}`);
  if (router === net.address) problems.push(`full.router is this box's own address ${net.address}: give the site's router (this box routes nothing)`);
  if (!inSubnet(router, net)) problems.push(`full.router ${router} is outside ${where}: clients could not reach it`);
  if (dnsServers.includes(net.address)) problems.push(`full.dnsServers contains this box's own address ${net.address}: give the site's DNS servers (this box answers no DNS)`);
  return problems;
}
