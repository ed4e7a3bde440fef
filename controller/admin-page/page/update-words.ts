/**
 * How a kiosk's update state reads on the admin page (contract/update-status.ts): one wording for
 * the fleet table's column, the kiosk's page and the filter, so "rolled back" is said the same way
 * everywhere and can be searched for.
 */
import type { SettingValues } from '../../../contract/fleet.js';
import type { Group, UpdateSummary } from '../../../contract/fleet-admin.js';
import type { TrialOutcome, UpdatePhase } from '../../../contract/update-status.js';

const PHASE_WORDS: Record<UpdatePhase, string> = {
  idle: 'idle',
  downloading: 'downloading',
  writing: 'writing',
  verifying: 'verifying',
  rebooting: 'restarting into the new version',
  trial: 'trial',
  failed: 'update failed',
};

const OUTCOME_WORDS: Record<TrialOutcome['outcome'], string> = {
  committed: 'committed',
  'rolled-back': 'rolled back',
  'did-not-finish': 'trial did not finish',
};

/** What the update agent is doing: "writing 42 %", "trial of 2026.04", "update failed". */
export function phaseText(update: Pick<UpdateSummary, 'phase' | 'percent' | 'targetVersion'>): string {
  const words = PHASE_WORDS[update.phase];
  if (update.phase === 'downloading' || update.phase === 'writing' || update.phase === 'verifying') {
    return `${words}${update.percent === null ? '' : ` ${Math.floor(update.percent)} %`}${update.targetVersion ? ` (${update.targetVersion})` : ''}`;
  }
  if (update.phase === 'rebooting' && update.targetVersion) return `restarting into ${update.targetVersion}`;
  if (update.phase === 'trial' && update.targetVersion) return `trial of ${update.targetVersion}`;
  return words;
}

/** "rolled back", "committed", "trial did not finish". */
export function outcomeText(outcome: TrialOutcome['outcome']): string {
  return OUTCOME_WORDS[outcome];
}

/** Whether a trial's outcome is something for the admin to look at. */
export function outcomeFailed(outcome: TrialOutcome['outcome']): boolean {
  return outcome !== 'committed';
}

/** Whether the phase is a problem (the last attempt failed). */
export function phaseFailed(phase: UpdatePhase): boolean {
  return phase === 'failed';
}

/**
 * The fleet's target version is the layered preset key update_version (contract/preset/keys.ts);
 * read by name, so the page works the same before and after a controller knows the key.
 */
const UPDATE_VERSION_KEY = 'update_version';

function settingOf(values: SettingValues, key: string): string | undefined {
  return (values as Record<string, string | undefined>)[key];
}

/** "3 of 5 on 1.4.0 (the group's update_version); 1.3.2: 1, unknown: 1", or without a target "1.4.0: 3, 1.3.2: 2". */
export function versionsLine(group: Group, site: SettingValues): string {
  if (!group.kiosks) return '';
  const own = settingOf(group.settings, UPDATE_VERSION_KEY);
  const target = own ?? settingOf(site, UPDATE_VERSION_KEY);
  const list = (versions: Group['versions']) => versions.map((v) => `${v.version}: ${v.kiosks}`).join(', ');
  if (!target) return `Running ${list(group.versions)}`;
  const on = group.versions.find((v) => v.version === target)?.kiosks ?? 0;
  const others = group.versions.filter((v) => v.version !== target);
  return `${on} of ${group.kiosks} on ${target} (${own ? 'the group\'s' : 'the site\'s'} update_version)${others.length ? `; ${list(others)}` : ''}`;
}
