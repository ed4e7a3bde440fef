/**
 * The boot menu every PC sees: an iPXE script (BIOS PCs reach iPXE through undionly.kpxe or their
 * own iPXE ROM, UEFI PCs through snponly.efi, UEFI ARM64 machines through ipxe-arm64.efi). It
 * loads the kernel and the initramfs over HTTP (TFTP carries only the first stage), starts the
 * kiosk after a timeout, and on any failure says so on screen and tries again: never a dead screen.
 */

export interface IpxeMenuOptions {
  serverAddress: string;
  httpPort: number;
  timeoutSeconds: number;
  serialConsole: boolean;
  /** Extra kernel command-line words (already checked: no spaces or iPXE syntax). */
  kernelArguments: readonly string[];
  /** Architectures the netboot files exist for. */
  arches: ReadonlyArray<'amd64' | 'arm64'>;
}

export function renderIpxeMenu(options: IpxeMenuOptions): string {
  const { serverAddress, httpPort, timeoutSeconds, serialConsole, kernelArguments, arches } = options;
  const base = `http://${serverAddress}:${httpPort}`;
  const lines = [
    '#!ipxe',
    `# thinkiosk boot menu for ${serverAddress}: written by the boot server (pxe/ipxe-menu.ts), do not edit.`,
    `set tk-base ${base}`,
    // (A 32-bit-only PC gets the amd64 kernel too: its own message says it needs an x86-64 CPU.)
    'iseq ${buildarch} arm64 && goto tk-arm64 ||',
    'set tk-arch amd64',
    `set tk-console console=tty1${serialConsole ? ' console=ttyS0,115200' : ''}`,
    'goto tk-menu',
    ':tk-arm64',
    'set tk-arch arm64',
    `set tk-console console=tty1${serialConsole ? ' console=ttyAMA0,115200' : ''}`,
    ':tk-menu',
  ];
  const missing = (['amd64', 'arm64'] as const).filter((arch) => !arches.includes(arch));
  for (const arch of missing) lines.push(`iseq \${tk-arch} ${arch} && goto tk-no-arch ||`);
  if (timeoutSeconds > 0) {
    lines.push(
      // An iPXE without menus (some firmware ROMs) starts the kiosk straight away.
      `menu thinkiosk: network boot from ${serverAddress} || goto tk-kiosk`,
      'item --gap -- Thin client for your virtual desktops',
      'item tk-kiosk Start the kiosk',
      'item tk-verbose Start the kiosk, showing every boot message',
      'item tk-local Boot this computer from its own disk instead',
      `choose --timeout ${timeoutSeconds * 1000} --default tk-kiosk tk-choice || goto tk-kiosk`,
      'goto ${tk-choice}',
    );
  }
  lines.push(
    ':tk-kiosk',
    'set tk-quiet quiet loglevel=3',
    'goto tk-boot',
    ':tk-verbose',
    'set tk-quiet loglevel=7',
    ':tk-boot',
    'echo thinkiosk: loading the kiosk (${tk-arch}) from ${tk-base}',
    // initrd= names the initramfs for the EFI stub (iPXE on UEFI hands it over as a file).
    'kernel ${tk-base}/${tk-arch}/vmlinuz initrd=initrd.img ${tk-console} net.ifnames=0 ${tk-quiet} BOOTIF=01-${netX/mac:hexhyp} '
      + `thinkiosk.server=${serverAddress}:${httpPort} thinkiosk.root=\${tk-base}/\${tk-arch}/root.squashfs thinkiosk.arch=\${tk-arch}${kernelArguments.map((word) => ` ${word}`).join('')} || goto tk-failed`,
    'initrd --name initrd.img ${tk-base}/${tk-arch}/initrd.img || goto tk-failed',
    'boot || goto tk-failed',
    ':tk-failed',
    'echo',
    `echo thinkiosk cannot start: the kiosk could not be loaded from the boot server ${serverAddress} (\${errno}).`,
    `echo Check that the thinkiosk box at ${serverAddress} is on and its boot server is enabled.`,
    'echo Trying again in 10 seconds...',
    'sleep 10',
    'goto tk-boot',
    ':tk-no-arch',
    `echo thinkiosk cannot start: the boot server ${serverAddress} has no kiosk for \${tk-arch} computers (run "make netboot" for it).`,
    'echo Trying again in 60 seconds...',
    'sleep 60',
    'goto tk-menu',
    ':tk-local',
    'echo thinkiosk: booting from the local disk',
    'iseq ${platform} pcbios && sanboot --no-describe --drive 0x80 ||',
    'exit 1',
    '',
  );
  return lines.join('\n');
}
