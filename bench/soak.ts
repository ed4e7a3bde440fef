/**
 * `make soak`: the classroom day of test/day, day after day on the same kiosk, controller and
 * Chromium, for SOAK_MINUTES (default 60); prints the same figures as the test (a row per person,
 * slopes per person, connects and failures by cause, what was left behind) and exits non-zero when
 * a step went other than expected, something was left behind or a slope is over its limit.
 *   SOAK_MINUTES   how long to keep starting new days (default 60; a day already begun is finished)
 *   SOAK_PEOPLE    people per day (default 30); the day's events keep their shares of it
 * Needs root. Its own classroom (slot 1: X displays :85, :86, :88; TCP ports 16170-16199; network
 * namespace tkday1 on 10.89.1.0/24), so it can run next to the test.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openClassroom } from '../test/day/classroom.js';
import { runDay } from '../test/day/day.js';
import { slopes } from '../test/day/sampler.js';
import { fullReport, slopeVerdict } from '../test/day/report.js';

const MINUTES = Number(process.env.SOAK_MINUTES ?? 60);
const PEOPLE = Number(process.env.SOAK_PEOPLE ?? 30);
/** As in the test: long enough that nobody busy at the kiosk is logged out. */
const IDLE_LOGOUT_SECONDS = 40;

async function main(): Promise<number> {
  if (!Number.isFinite(MINUTES) || MINUTES < 0) throw new Error(`SOAK_MINUTES must be a number of minutes (got "${process.env.SOAK_MINUTES}")`);
  if (!Number.isInteger(PEOPLE) || PEOPLE < 8) throw new Error(`SOAK_PEOPLE must be a whole number of at least 8 (got "${process.env.SOAK_PEOPLE}")`);
  const work = mkdtempSync(path.join(tmpdir(), 'thinkiosk-soak-'));
  const log = (line: string): void => void process.stdout.write(`[soak ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
  log(`soak: days of ${PEOPLE} people for ${MINUTES} min`);
  const room = await openClassroom({ slot: 1, workDir: work, people: PEOPLE, idleLogoutSeconds: IDLE_LOGOUT_SECONDS, log });
  let stopping = false;
  const stop = (): void => {
    if (stopping) process.exit(130);
    stopping = true;
    log('interrupted: stopping the classroom (Ctrl+C again to leave it as it is)');
    void room.close().then(() => {
      rmSync(work, { recursive: true, force: true });
      process.exit(130);
    });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    const report = await runDay(room, { peoplePerDay: PEOPLE, minutes: MINUTES, log });
    process.stdout.write(`${fullReport(report)}\n`);
    const { over } = slopeVerdict(slopes(report.samples));
    return report.tally.unexpected.length || report.leftovers.length || over.length || report.pageErrors.length ? 1 : 0;
  } finally {
    await room.close();
    rmSync(work, { recursive: true, force: true });
  }
}

main().then((code) => process.exit(code), (error: unknown) => {
  process.stderr.write(`soak: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
});
