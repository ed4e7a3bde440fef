/**
 * How the admin page words a kiosk's update state and a group's versions
 * (controller/admin-page/page/update-words.ts), as built for the browser (dist/www: the page's own
 * build, loaded here as the module the browser loads). The browser test (test/kiosk/admin-page.test.ts)
 * shows them on the page; the "n of m on <update_version>" line is checked here too because a group
 * can only be given update_version once the controller knows that key (the update agent's branch).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Group, UpdateSummary } from '../../contract/fleet-admin.js';
import { BUILT_ADMIN_PAGE } from '../../controller/admin-page/serve.js';

interface UpdateWords {
  phaseText(update: Pick<UpdateSummary, 'phase' | 'percent' | 'targetVersion'>): string;
  outcomeText(outcome: NonNullable<UpdateSummary['lastTrial']>['outcome']): string;
  versionsLine(group: Group, site: Record<string, string>): string;
}

const words = (await import(pathToFileURL(path.join(BUILT_ADMIN_PAGE, 'update-words.js')).href)) as UpdateWords;

const lab3 = (settings: Record<string, string>): Group => ({
  name: 'lab3', settings, kiosks: 5,
  versions: [{ version: '1.4.0', kiosks: 3 }, { version: '1.3.2', kiosks: 1 }, { version: 'unknown', kiosks: 1 }],
});

test('admin page words: a group\'s kiosks against its update_version, the group\'s own before the site\'s; without one, the versions only', () => {
  assert.equal(words.versionsLine(lab3({ update_version: '1.4.0' }), { update_version: '1.3.2' }), '3 of 5 on 1.4.0 (the group\'s update_version); 1.3.2: 1, unknown: 1');
  assert.equal(words.versionsLine(lab3({}), { update_version: '1.3.2' }), '1 of 5 on 1.3.2 (the site\'s update_version); 1.4.0: 3, unknown: 1');
  assert.equal(words.versionsLine(lab3({ update_version: '1.5.0' }), {}), '0 of 5 on 1.5.0 (the group\'s update_version); 1.4.0: 3, 1.3.2: 1, unknown: 1');
  assert.equal(words.versionsLine(lab3({}), {}), 'Running 1.4.0: 3, 1.3.2: 1, unknown: 1');
  assert.equal(words.versionsLine({ name: 'empty', settings: {}, kiosks: 0, versions: [] }, { update_version: '1.4.0' }), '', 'a group without kiosks says nothing');
});

test('admin page words: what the update agent does, with progress and the version it installs', () => {
  assert.equal(words.phaseText({ phase: 'writing', percent: 42.7, targetVersion: '1.4.0' }), 'writing 42 % (1.4.0)');
  assert.equal(words.phaseText({ phase: 'downloading', percent: null, targetVersion: null }), 'downloading');
  assert.equal(words.phaseText({ phase: 'rebooting', percent: null, targetVersion: '1.4.0' }), 'restarting into 1.4.0');
  assert.equal(words.phaseText({ phase: 'trial', percent: null, targetVersion: '1.4.0' }), 'trial of 1.4.0');
  assert.equal(words.phaseText({ phase: 'failed', percent: null, targetVersion: '1.4.0' }), 'update failed');
  assert.deepEqual((['committed', 'rolled-back', 'did-not-finish'] as const).map(words.outcomeText), ['committed', 'rolled back', 'trial did not finish']);
});
