/**
 * How thinkiosk.conf is read, line by line, by every program that reads it: `key = value` lines
 * (the key in any case), `#` comments, blank lines, a value in double quotes or not. Windows
 * editors' line ends and a UTF-8 byte-order mark are no mistakes. A wrong line never stops a
 * reader: it becomes a sentence naming the file and the line (`thinkiosk.conf line 3: ...`).
 */
import { PRESET_KEYS, checkPresetValue, isPresetKeyName, presetProblem, presetValueText, type PresetKeyName, type PresetOwner, type PresetSetting, type PresetSystem } from './keys.js';

export type PresetLine =
  /** `text`: the value, one pair of surrounding quotes off. `line`: the whole line as written. */
  | { kind: 'setting'; lineNumber: number; key: string; text: string; line: string }
  | { kind: 'malformed'; lineNumber: number; line: string };

/**
 * Only ASCII spaces separate a line's parts: the image reads the file byte for byte, where a
 * non-breaking space's byte (0xA0) may be the last byte of a Chinese character in a Wi-Fi name.
 */
const SETTING = /^([A-Za-z_][\w.-]*)[ \t\v\f]*=[ \t\v\f]*(.*)$/s;
const ASCII_SPACE_AROUND = /^[ \t\v\f]+|[ \t\v\f]+$/g;

/** The file's lines that say something, numbered as an editor numbers them; comments and blanks left out. */
export function presetLines(fileText: string): PresetLine[] {
  const lines: PresetLine[] = [];
  fileText.split('\n').forEach((raw, index) => {
    const line = raw.replace(/\r/g, '').replace(/^\uFEFF/, '');
    const trimmed = line.replace(ASCII_SPACE_AROUND, '');
    if (!trimmed || trimmed.startsWith('#')) return;
    const match = SETTING.exec(trimmed);
    const lineNumber = index + 1;
    if (!match) lines.push({ kind: 'malformed', lineNumber, line: trimmed });
    else lines.push({ kind: 'setting', lineNumber, key: match[1]!.toLowerCase(), text: match[2]!.replace(/^"(.*)"$/s, '$1'), line });
  });
  return lines;
}

export interface PresetCheck {
  /** The good lines of the reader's keys, in the file's order. */
  settings: PresetSetting[];
  /** Lines of the reader's keys whose value is wrong (each also in `problems`). */
  rejected: { key: PresetKeyName; lineNumber: number }[];
  /** One sentence a problem, in the file's order: `<source> line N: ...`. */
  problems: string[];
}

/**
 * Checks the lines of one owner's keys. The image also reports keys nobody knows; the kiosk leaves
 * that to the image (on the image it only ever sees its own lines: apply-preset's copy).
 */
export function checkPreset(fileText: string, source: string, owner: PresetOwner, system?: PresetSystem): PresetCheck {
  const check: PresetCheck = { settings: [], rejected: [], problems: [] };
  for (const line of presetLines(fileText)) {
    const where = `${source} line ${line.lineNumber}`;
    if (line.kind === 'malformed') {
      check.problems.push(`${where}: "${line.line.slice(0, 40)}" is not of the form key = value`);
    } else if (!isPresetKeyName(line.key)) {
      if (owner === 'image') check.problems.push(`${where}: unknown key "${line.key}" (known: ${Object.keys(PRESET_KEYS).join(', ')})`);
    } else if (PRESET_KEYS[line.key].owner === owner) {
      const value = checkPresetValue(line.key, line.text, system);
      if (value === undefined) {
        check.rejected.push({ key: line.key, lineNumber: line.lineNumber });
        check.problems.push(`${where}: ${presetProblem(line.key, line.text)}`);
      } else {
        check.settings.push({ key: line.key, value, lineNumber: line.lineNumber } as PresetSetting);
      }
    }
  }
  return check;
}

/** The last line of one key (whatever its value), as its key's rule reads it; undefined when none. */
export function lastPresetText(fileText: string, name: PresetKeyName): string | undefined {
  let last: string | undefined;
  for (const line of presetLines(fileText)) if (line.kind === 'setting' && line.key === name) last = presetValueText(name, line.text);
  return last;
}

/** The value of the last good line of one key (a wrong line is passed over, as every reader does). */
export function lastGoodPresetValue<Name extends PresetKeyName>(fileText: string, name: Name): ReturnType<typeof checkPresetValue<Name>> {
  let last: ReturnType<typeof checkPresetValue<Name>>;
  for (const line of presetLines(fileText)) {
    if (line.kind !== 'setting' || line.key !== name) continue;
    last = checkPresetValue(name, line.text) ?? last;
  }
  return last;
}
