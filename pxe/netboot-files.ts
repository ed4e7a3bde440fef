/**
 * What `make netboot` produced (pxe/build-netboot.sh), as the boot server finds it:
 *
 *   tftp/undionly.kpxe  tftp/snponly.efi  tftp/ipxe-arm64.efi     first stage (iPXE), by firmware
 *   tftp/rpi/…                                                    Raspberry Pi firmware, kernel, initramfs, config.txt
 *   http/<arch>/vmlinuz  http/<arch>/initrd.img  http/<arch>/root.squashfs
 *   SHA256SUMS  manifest.txt
 *
 * A missing piece is reported, never fatal: the boot server still serves what is there and each
 * client that needs the missing piece shows on its own screen what is missing.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LOADERS } from './dnsmasq-config.js';

export type NetbootArch = 'amd64' | 'arm64';

export interface NetbootFiles {
  dir: string;
  /** Architectures with a kernel and an initramfs (the root file system is checked separately). */
  arches: NetbootArch[];
  loaders: string[];
  raspberryPi: boolean;
  problems: string[];
}

const isFile = (path: string): boolean => {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
};

export function inspectNetbootFiles(dir: string): NetbootFiles {
  const problems: string[] = [];
  if (!existsSync(dir)) {
    return { dir, arches: [], loaders: [], raspberryPi: false, problems: [`there are no netboot files in ${dir}: build them with "make netboot"`] };
  }
  const arches: NetbootArch[] = [];
  for (const arch of ['amd64', 'arm64'] as const) {
    const base = join(dir, 'http', arch);
    if (isFile(join(base, 'vmlinuz')) && isFile(join(base, 'initrd.img'))) {
      arches.push(arch);
      if (!isFile(join(base, 'root.squashfs'))) problems.push(`${base}/root.squashfs is missing: ${arch} clients will show an error until it is there`);
    }
  }
  if (!arches.includes('amd64')) problems.push(`no kiosk for PCs (amd64) in ${dir}/http: PCs cannot netboot`);
  const loaders = Object.values(LOADERS).filter((name) => isFile(join(dir, 'tftp', name)));
  for (const name of Object.values(LOADERS)) if (!loaders.includes(name)) problems.push(`${dir}/tftp/${name} is missing: clients that need it cannot start iPXE`);
  const raspberryPi = isFile(join(dir, 'tftp', 'rpi', 'start4.elf')) && arches.includes('arm64');
  if (!raspberryPi) problems.push(`no Raspberry Pi files (tftp/rpi and http/arm64) in ${dir}: Raspberry Pis cannot netboot`);
  return { dir, arches, loaders, raspberryPi, problems };
}

/** The Raspberry Pi files every Pi TFTP directory links to (cmdline.txt is written per server). */
export function piFiles(dir: string): string[] {
  const rpi = join(dir, 'tftp', 'rpi');
  return existsSync(rpi) ? readdirSync(rpi).filter((name) => name !== 'cmdline.txt').sort() : [];
}
