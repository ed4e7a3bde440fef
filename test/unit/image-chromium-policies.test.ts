// The image's managed Chromium policies (rootfs-overlay/etc/chromium/policies/managed/thinkiosk.json,
// read by Debian's Chromium from /etc/chromium/policies/managed/): exactly the list the kiosk relies
// on, with its values; every name one that the installed Chromium knows (Chromium ignores a
// misspelt policy without a word); and the browser shell's own preferences, for machines without
// the policies, saying the same.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { kioskLocalState, kioskPreferences } from '../../app/shell/chromium-profile.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const POLICIES = `${ROOT}rootfs-overlay/etc/chromium/policies/managed/thinkiosk.json`;
const CHROMIUM_BINARY = '/usr/lib/chromium/chromium';

/** The policies the kiosk relies on and their values (the README's "Chromium's policies" says why, one line each). */
const EXPECTED: Record<string, unknown> = {
  // Nothing of one person for the next: no saved passwords, form data, history, profiles.
  PasswordManagerEnabled: false,
  PasswordLeakDetectionEnabled: false,
  AutofillAddressEnabled: false,
  AutofillCreditCardEnabled: false,
  PaymentMethodQueryEnabled: false,
  SavingBrowserHistoryDisabled: true,
  ForceEphemeralProfiles: true,
  // No way out of the kiosk: no sign-in or sync, other profiles, incognito, devtools, extensions,
  // downloads, printing, file chooser, bookmarks; no page but the kiosk's own.
  BrowserSignin: 0,
  SyncDisabled: true,
  BrowserGuestModeEnabled: false,
  BrowserAddPersonEnabled: false,
  IncognitoModeAvailability: 1,
  DeveloperToolsAvailability: 2,
  ExtensionInstallBlocklist: ['*'],
  DownloadRestrictions: 3,
  PrintingEnabled: false,
  AllowFileSelectionDialogs: false,
  EditBookmarksEnabled: false,
  BookmarkBarEnabled: false,
  TaskManagerEndProcessEnabled: false,
  URLBlocklist: ['*', 'chrome://*', 'chrome-untrusted://*', 'devtools://*', 'file://*', 'chrome-extension://*'],
  URLAllowlist: ['http://127.0.0.1'],
  // Nothing that asks the person for a device, or talks to Google on its own.
  DefaultNotificationsSetting: 2,
  DefaultGeolocationSetting: 2,
  DefaultPopupsSetting: 2,
  AudioCaptureAllowed: false,
  VideoCaptureAllowed: false,
  ScreenCaptureAllowed: false,
  TranslateEnabled: false,
  SpellcheckEnabled: false,
  SearchSuggestEnabled: false,
  AlternateErrorPagesEnabled: false,
  NetworkPredictionOptions: 2,
  MetricsReportingEnabled: false,
  BackgroundModeEnabled: false,
  DefaultBrowserSettingEnabled: false,
  PromotionsEnabled: false,
};

function policies(): Record<string, unknown> {
  return JSON.parse(readFileSync(POLICIES, 'utf8')) as Record<string, unknown>;
}

test('[image] Chromium\'s managed policies are exactly the kiosk\'s list, with its values', () => {
  const actual = policies();
  assert.deepEqual(Object.keys(actual).sort(), Object.keys(EXPECTED).sort(), 'no policy missing, none unaccounted for');
  assert.deepEqual(actual, EXPECTED);
});

test('[image] every managed policy is a name Debian\'s Chromium knows', (t) => {
  if (!existsSync(CHROMIUM_BINARY)) return t.skip(`${CHROMIUM_BINARY} is not installed here`);
  // Chromium carries its policy names as NUL-terminated strings; a misspelt name is not among them.
  const binary = readFileSync(CHROMIUM_BINARY);
  const unknown = Object.keys(policies()).filter((name) => binary.indexOf(Buffer.from(`\0${name}\0`)) < 0);
  assert.deepEqual(unknown, []);
  assert.ok(binary.indexOf(Buffer.from('\0PasswordManagerEnabledd\0')) < 0, 'the check tells a misspelling apart');
});

test('[image] the browser shell\'s preferences, for machines without the policies, say what the policies say', () => {
  const p = policies();
  const origin = 'http://127.0.0.1:43210';
  const prefs = kioskPreferences(`${origin}/#boot=t`, origin) as Record<string, Record<string, unknown> | unknown>;
  const pref = (path: string): unknown => path.split('.').reduce<unknown>((value, key) => (value as Record<string, unknown> | undefined)?.[key], prefs);
  const same: [string, string, (policy: unknown) => unknown][] = [
    ['PasswordManagerEnabled', 'credentials_enable_service', (v) => v],
    ['AutofillAddressEnabled', 'autofill.profile_enabled', (v) => v],
    ['AutofillCreditCardEnabled', 'autofill.credit_card_enabled', (v) => v],
    ['BrowserSignin', 'signin.allowed', (v) => v !== 0],
    ['IncognitoModeAvailability', 'incognito.mode_availability', (v) => v],
    ['SavingBrowserHistoryDisabled', 'history.saving_disabled', (v) => v],
    ['DeveloperToolsAvailability', 'devtools.availability', (v) => v],
    ['DownloadRestrictions', 'download_restrictions', (v) => v],
    ['PrintingEnabled', 'printing.enabled', (v) => v],
    ['EditBookmarksEnabled', 'bookmarks.editing_enabled', (v) => v],
    ['TaskManagerEndProcessEnabled', 'task_manager.end_process_enabled', (v) => v],
    ['TranslateEnabled', 'translate.enabled', (v) => v],
    ['SpellcheckEnabled', 'browser.enable_spellchecking', (v) => v],
    ['SearchSuggestEnabled', 'search.suggest_enabled', (v) => v],
    ['NetworkPredictionOptions', 'net.network_prediction_options', (v) => v],
    ['DefaultNotificationsSetting', 'profile.default_content_setting_values.notifications', (v) => v],
  ];
  for (const [policy, path, toPref] of same) assert.deepEqual(pref(path), toPref(p[policy]), `${policy} ↔ ${path}`);
  assert.deepEqual(pref('policy.url_blocklist'), ['*']);
  assert.deepEqual(pref('policy.url_allowlist'), [origin], 'the shell knows its port; the image allows 127.0.0.1 on any');
  assert.deepEqual(kioskLocalState(), { select_file_dialogs: { allowed: p.AllowFileSelectionDialogs } });
});
