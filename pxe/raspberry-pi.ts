/**
 * Raspberry Pi 4/5 network boot. The Pi's EEPROM boot loader asks DHCP like a BIOS PC (client
 * architecture 0, vendor class "PXEClient:Arch:00000:..."), so it is told apart by its MAC prefix;
 * it boots only when the answer's PXE menu (option 43) says "Raspberry Pi Boot". It then reads
 * everything over TFTP, first from a directory named after its serial number
 * (`<serial>/start4.elf`), otherwise from the TFTP root: the firmware, config.txt, cmdline.txt,
 * the kernel and the initramfs. The root file system then comes over HTTP like a PC's.
 */
import type { BootServerConfig } from './config.js';

/** Raspberry Pi Foundation / Raspberry Pi Ltd MAC prefixes (IEEE OUIs). */
export const RASPBERRY_PI_MAC_PREFIXES = ['b8:27:eb', 'dc:a6:32', 'e4:5f:01', '28:cd:c1', 'd8:3a:dd', '2c:cf:67', '88:a2:9e'] as const;

/** Exactly what the Pi boot loader looks for in option 43. */
export const RASPBERRY_PI_MENU_TEXT = 'Raspberry Pi Boot';

export interface PiCommandLine {
  serverAddress: string;
  httpPort: number;
  serialConsole: boolean;
  kernelArguments: readonly string[];
}

/**
 * cmdline.txt for a netbooted Pi: the image's console set-up (serial on the GPIO header, ttyS1 with
 * Debian's kernel), the contiguous memory the display needs, and where the root comes from.
 */
export function renderPiCommandLine({ serverAddress, httpPort, serialConsole, kernelArguments }: PiCommandLine): string {
  const base = `http://${serverAddress}:${httpPort}`;
  const words = ['console=tty1', ...(serialConsole ? ['console=ttyS1,115200'] : []), 'net.ifnames=0', 'cma=64M', 'quiet', 'loglevel=3',
    `thinkiosk.server=${serverAddress}:${httpPort}`, `thinkiosk.root=${base}/arm64/root.squashfs`, 'thinkiosk.arch=arm64', ...kernelArguments];
  return `${words.join(' ')}\n`;
}

/**
 * The TFTP directories a Pi may read from: the root (any Pi, unless switched off) and one per
 * listed serial number. Each holds the same files; only cmdline.txt is written, the rest link to
 * the netboot files.
 */
export function piTftpDirectories(config: BootServerConfig): string[] {
  return [...(config.raspberryPi.anySerial ? [''] : []), ...config.raspberryPi.serials];
}
