/**
 * Whether the version the settings name (update_version: a fleet's group target or
 * thinkiosk.conf's) is to be installed now. Once per target: a version whose trial boot did not
 * stick is not installed again by itself (the admin can, from the admin screen); an install that
 * failed before its trial (download cut, server down) is tried again, later each time.
 */
import { compareVersions } from '../../../contract/update-bundle.js';
import type { TargetAttempts } from './update-state.js';
import type { UpdateSettings } from './update-settings.js';

export const FIRST_RETRY_MS = 15 * 60_000;
export const LONGEST_RETRY_MS = 6 * 60 * 60_000;

export type TargetDecision =
  | { action: 'none'; message: string | null }
  | { action: 'install'; version: string; urlTemplate: string };

/** 15 min after the first failure, doubling, at most 6 h. */
export function retryDelayMs(failures: number): number {
  return Math.min(LONGEST_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.max(0, failures - 1));
}

export function decideTarget(settings: UpdateSettings, runningVersion: string, attempts: TargetAttempts | null, now: Date): TargetDecision {
  const version = settings.version;
  if (version === null || version === runningVersion) return { action: 'none', message: null };
  let order: number;
  try {
    order = compareVersions(version, runningVersion);
  } catch {
    // A development build ("unknown") has no version to compare with: it is never updated by itself.
    return { action: 'none', message: `The settings name version ${version}, but the running version (${runningVersion}) is not one this kiosk can compare with.` };
  }
  if (order < 0 && !settings.allowDowngrade) {
    return { action: 'none', message: `The settings name version ${version}, older than the running ${runningVersion}; older versions are installed only when update_allow_downgrade is yes.` };
  }
  if (settings.url === null) return { action: 'none', message: `The settings name version ${version} but no update_url to get it from.` };
  const mine = attempts?.version === version ? attempts : null;
  if (mine?.trialFailed) {
    return { action: 'none', message: `Version ${version} was tried and did not start well, so it is not installed again by itself. Install it from the admin screen to try once more.` };
  }
  if (mine && mine.failures > 0) {
    const next = new Date(Date.parse(mine.lastAt) + retryDelayMs(mine.failures));
    if (next > now) {
      return { action: 'none', message: `Installing version ${version} failed ${mine.failures === 1 ? 'once' : `${mine.failures} times`} (${mine.lastMessage ?? 'see the journal'}); next try after ${next.toISOString().slice(11, 16)} UTC.` };
    }
  }
  return { action: 'install', version, urlTemplate: settings.url };
}
