/**
 * Raspberry Pi Imager's customisation files for init_format "cloudinit", written the way its
 * current source writes them (github.com/raspberrypi/rpi-imager, 2026-08, commit 72ad1179):
 *
 *   user-data       src/customization_generator.cpp generateCloudInitUserData (lines 537-804),
 *                   "#cloud-config\n" put in front by src/downloadthread.cpp line 2622;
 *   network-config  src/customization_generator.cpp generateCloudInitNetworkConfig (806-887), the
 *                   Wi-Fi key derived by pbkdf2() (112-114) and resolveWifiPskCrypt() (190-212);
 *   meta-data       src/downloadthread.cpp lines 2607-2609;
 *   cmdline.txt     src/downloadthread.cpp lines 2618 and 2634-2641 (read, trimmed, appended,
 *                   written without a line end), with src/imagewriter.cpp 3934-3937's regdom.
 *
 * Only the branches the wizard's host name, locale, user/SSH and Wi-Fi steps reach are ported
 * (no Raspberry Pi Connect, interfaces or USB gadget): line for line, so a test that feeds these to
 * the image feeds it what Imager writes. Imager's `push` drops empty lines, hence no blank lines
 * but the one after manage_resolv_conf.
 */
import { pbkdf2Sync } from 'node:crypto';

export interface ImagerChoices {
  hostname?: string;
  timezone?: string;
  keyboard?: string;
  /** SSH on, with these keys (Imager's sshAuthorizedKeys, one a line). */
  sshKeys?: string[];
  sshPasswordAuth?: boolean;
  userName?: string;
  /** Already crypted (Imager hashes the typed password with yescrypt). */
  userPasswordCrypt?: string;
  wifi?: { ssid: string; password?: string; hidden?: boolean; country?: string };
}

export function imagerUserData(c: ImagerChoices, currentUser = 'builder'): string {
  const out: string[] = [];
  const push = (line: string): void => { if (line) out.push(line); };
  if (c.hostname) {
    push(`hostname: ${c.hostname}`);
    push('manage_etc_hosts: true');
    push('packages:');
    push('- avahi-daemon');
    push('apt:');
    push('  preserve_sources_list: true');
    push('  conf: |');
    push('    Acquire {');
    push('      Check-Date "false";');
    push('    };');
  }
  if (c.timezone) push(`timezone: ${c.timezone}`);
  if (c.keyboard) {
    push('keyboard:');
    push('  model: pc105');
    push(`  layout: "${c.keyboard}"`);
  }
  const sshEnabled = (c.sshKeys?.length ?? 0) > 0 || Boolean(c.sshPasswordAuth);
  const hasUserCredentials = Boolean(c.userName && c.userPasswordCrypt);
  const hasSshKeys = sshEnabled && (c.sshKeys?.length ?? 0) > 0;
  const effectiveUser = c.userName ? c.userName : sshEnabled ? currentUser : 'pi';
  if (hasUserCredentials || hasSshKeys) {
    push('user:');
    push(`  name: ${effectiveUser}`);
    push('  shell: /bin/bash');
    if (c.userPasswordCrypt) {
      push('  lock_passwd: false');
      push(`  passwd: "${c.userPasswordCrypt}"`);
    } else if (hasSshKeys) {
      push('  lock_passwd: true');
    }
    if (hasSshKeys) {
      push('  ssh_authorized_keys:');
      for (const key of c.sshKeys!) push(`    - "${key.trim()}"`);
    }
    push('  sudo: null');
  }
  if (sshEnabled) {
    if (c.sshPasswordAuth) push('ssh_pwauth: true');
    else if (hasSshKeys) push('ssh_pwauth: false');
  }
  const needsRuncmdForWifi = Boolean(c.wifi?.country) && !c.wifi?.ssid;
  if (sshEnabled || needsRuncmdForWifi) {
    push('runcmd:');
    if (sshEnabled) push('  - [ systemctl, enable, --now, ssh ]');
    if (needsRuncmdForWifi) {
      push('  - [ rfkill, unblock, wifi ]');
      push('  - [ sh, -c, "for f in /var/lib/systemd/rfkill/*:wlan; do echo 0 > \\"$f\\"; done" ]');
    }
  }
  if (!out.length) return '';
  return `#cloud-config\nmanage_resolv_conf: false\n\n${out.map((line) => `${line}\n`).join('')}`;
}

/** Imager's yamlEscapeSsidOctets: printable ASCII as is, every other byte \xHH (and C escapes). */
function yamlEscapeSsidOctets(octets: Buffer): string {
  const named: Record<number, string> = { 0x5c: '\\\\', 0x22: '\\"', 0x0a: '\\n', 0x0d: '\\r', 0x09: '\\t', 0x08: '\\b', 0x0c: '\\f', 0x00: '\\0' };
  return [...octets].map((byte) => named[byte] ?? (byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, '0')}`)).join('');
}

/** The WPA key Imager writes for a passphrase of 8 to 63 characters (anything else as typed). */
export function imagerWifiKey(password: string, ssid: string): string {
  const plain = password.replace(/[\r\n]/g, '');
  const isPassphrase = plain.length >= 8 && plain.length < 64;
  return isPassphrase ? pbkdf2Sync(Buffer.from(plain, 'utf8'), Buffer.from(ssid, 'utf8'), 4096, 32, 'sha1').toString('hex') : plain;
}

export function imagerNetworkConfig(c: ImagerChoices): string {
  if (!c.wifi?.ssid) return '';
  const { ssid, password = '', hidden = false, country = '' } = c.wifi;
  const out = ['network:', '  version: 2', '  ethernets:', '    eth0:', '      dhcp4: true', '      dhcp6: true', '      optional: true',
    '  wifis:', '    wlan0:', '      dhcp4: true'];
  if (country) out.push(`      regulatory-domain: "${country.toUpperCase()}"`);
  out.push('      access-points:');
  out.push(`        "${yamlEscapeSsidOctets(Buffer.from(ssid, 'utf8'))}":`);
  if (hidden) out.push('          hidden: true');
  const key = password ? imagerWifiKey(password, ssid) : '';
  if (!key) out.push('          auth:', '            key-management: none');
  else out.push(`          password: "${key.replace(/"/g, '\\"')}"`);
  out.push('      optional: true');
  return out.map((line) => `${line}\n`).join('');
}

export function imagerMetaData(instanceId: string): string {
  return `instance-id: ${instanceId}\n`;
}

/** cmdline.txt after Imager: the image's line trimmed, the regulatory domain, then the NoCloud pointer. */
export function imagerCmdline(original: string, instanceId: string, country = ''): string {
  return `${original.trim()}${country ? ` cfg80211.ieee80211_regdom=${country}` : ''} ds=nocloud;i=${instanceId}`;
}
