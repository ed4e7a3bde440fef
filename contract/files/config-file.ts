/**
 * Configuration files an administrator writes by hand (the controller's configuration, its desktop
 * inventory, the boot server's configuration): read, parsed and checked in full before anything
 * starts, so that every mistake is reported at once with the file and the place in it, and a
 * program never runs on half a configuration. Each kind of file keeps its own error class (its
 * program's main turns that into its own exit message) and its own schema; how it is read, and
 * how its problems are worded, is the same for all.
 */
import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import YAML from 'yaml';

export interface ConfigFileKind<T> {
  /** What the file is, in messages: "controller configuration". */
  what: string;
  /** YAML reads JSON too. */
  syntax: 'JSON' | 'YAML';
  schema: z.ZodType<T>;
  /** The error every problem is thrown as. */
  error: new (message: string) => Error;
  /**
   * Where a missing file means "all defaults": the raw value it stands for (an empty file, or one
   * with only comments, stands for it too). Without it, a missing file is an error.
   */
  whenMissing?: unknown;
  /** Names the place of a problem (default: `a.b.2.c`, or "(top)"). */
  describePath?: (path: readonly PropertyKey[], raw: unknown) => string;
  /** Added after the path in "cannot read" messages, e.g. the setting that named the file. */
  readHint?: string;
}

function dottedPath(path: readonly PropertyKey[]): string {
  return path.map(String).join('.') || '(top)';
}

/** Checks an already parsed value against the kind's schema; `source` names it in messages. */
export function checkConfig<T>(kind: ConfigFileKind<T>, raw: unknown, source: string): T {
  const parsed = kind.schema.safeParse(raw);
  if (!parsed.success) {
    const describe = kind.describePath ?? dottedPath;
    const problems = parsed.error.issues.map((issue) => `  ${describe(issue.path, raw)}: ${issue.message}`).join('\n');
    throw new kind.error(`invalid ${kind.what} in ${source}:\n${problems}`);
  }
  return parsed.data;
}

/** Parses text in the kind's syntax and checks it. */
export function parseConfigText<T>(kind: ConfigFileKind<T>, text: string, source: string): T {
  let raw: unknown;
  try {
    raw = kind.syntax === 'JSON' ? JSON.parse(text) : YAML.parse(text, { prettyErrors: true });
  } catch (error) {
    const firstLine = (error as Error).message.split('\n')[0];
    throw new kind.error(`${kind.what} ${source} is not valid ${kind.syntax === 'YAML' ? 'YAML or JSON' : 'JSON'}: ${firstLine}`);
  }
  return checkConfig(kind, raw ?? kind.whenMissing, source);
}

export function loadConfigFile<T>(kind: ConfigFileKind<T>, path: string): T {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && kind.whenMissing !== undefined) {
      return checkConfig(kind, kind.whenMissing, `${path} (missing: defaults)`);
    }
    throw new kind.error(`cannot read the ${kind.what} ${path}${kind.readHint ? ` (${kind.readHint})` : ''}: ${(error as Error).message}`);
  }
  return parseConfigText(kind, text, path);
}
