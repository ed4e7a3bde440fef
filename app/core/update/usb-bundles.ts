/**
 * A bundle from a USB stick: every file system of a disk that is not the kiosk's own is mounted
 * read-only (nosuid, nodev, noexec: nothing on a stick is ever run), the `*.tkupdate` files at its
 * top level are looked at (only their signed manifests are read), and the newest one that is for
 * this kiosk (signed by a key it trusts, its architecture) is chosen: the highest version, then the
 * latest build. The others are named with why they were passed over.
 */
import { createReadStream } from 'node:fs';
import { lstat, mkdir, mkdtemp, readdir, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { BUNDLE_EXTENSION, compareVersions, type Architecture, type BundleManifest } from '../../../contract/update-bundle.js';
import { runTool } from '../system/run-tool.js';
import { listBlockDevices, stickFileSystems, type LsblkDevice } from './block-devices.js';
import { readBundleManifest } from './install.js';
import type { TrustedKeys } from './signing-keys.js';
import { UpdateError } from './update-error.js';

export interface BundleChoice {
  file: string;
  manifest: BundleManifest;
  /** The bundles passed over, each with its reason. */
  passedOver: { file: string; why: string }[];
}

/** The newest good bundle among the `*.tkupdate` files at the top of `dir`; null when none is good. */
export async function chooseBundleIn(dirs: readonly string[], keys: TrustedKeys, architecture: Architecture): Promise<BundleChoice | null> {
  const good: { file: string; manifest: BundleManifest }[] = [];
  const passedOver: BundleChoice['passedOver'] = [];
  for (const dir of dirs) {
    const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.toLowerCase().endsWith(BUNDLE_EXTENSION)).sort();
    for (const name of names) {
      const file = join(dir, name);
      if (!(await lstat(file)).isFile()) { passedOver.push({ file, why: 'not a plain file' }); continue; }
      try {
        const manifest = await readBundleManifest(createReadStream(file), keys);
        if (manifest.architecture !== architecture) passedOver.push({ file, why: `for ${manifest.architecture}, this kiosk is ${architecture}` });
        else good.push({ file, manifest });
      } catch (error) {
        passedOver.push({ file, why: error instanceof UpdateError ? error.message : String(error) });
      }
    }
  }
  good.sort((x, y) => compareVersions(y.manifest.version, x.manifest.version) || Date.parse(y.manifest.created) - Date.parse(x.manifest.created));
  const [best, ...rest] = good;
  if (!best) return null;
  for (const other of rest) passedOver.push({ file: other.file, why: `older than ${best.manifest.version} (${other.manifest.version}, built ${other.manifest.created})` });
  return { ...best, passedOver };
}

export interface MountedSticks {
  /** The mount points, one per file system. */
  dirs: string[];
  /** The devices, for the admin ("USB stick /dev/sda1"). */
  devices: string[];
  /** File systems that could not be mounted, with mount's words. */
  failures: string[];
  release(): Promise<void>;
}

/** Mounts every stick file system read-only, nosuid, nodev, noexec under `base`. */
export async function mountSticks(base: string, devices?: readonly LsblkDevice[]): Promise<MountedSticks> {
  const candidates = stickFileSystems(devices ?? await listBlockDevices());
  await mkdir(base, { recursive: true, mode: 0o700 });
  const mounted: { dir: string; device: string; ours: boolean }[] = [];
  const failures: string[] = [];
  const release = async (): Promise<void> => {
    for (const m of mounted.filter((x) => x.ours)) {
      await runTool('umount', [m.dir], { service: 'umount', missing: 'umount is not installed.' }).catch(() => undefined);
      await rmdir(m.dir).catch(() => undefined);
    }
  };
  try {
    for (const device of candidates) {
      if (device.mountpoint) { mounted.push({ dir: device.mountpoint, device: device.name, ours: false }); continue; }
      const dir = await mkdtemp(join(base, 'stick-'));
      const run = await runTool('mount', ['-o', 'ro,nosuid,nodev,noexec', device.name, dir], { service: 'mount', missing: 'mount is not installed.', timeoutMs: 30_000 });
      if (run.code !== 0) {
        failures.push(`${device.name}: ${run.stderr.trim().split('\n')[0] || `mount exit code ${run.code}`}`);
        await rmdir(dir).catch(() => undefined);
        continue;
      }
      mounted.push({ dir, device: device.name, ours: true });
    }
  } catch (error) {
    await release();
    throw error;
  }
  return { dirs: mounted.map((m) => m.dir), devices: mounted.map((m) => m.device), failures, release };
}
