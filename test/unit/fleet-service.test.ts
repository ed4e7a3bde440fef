/**
 * The fleet service on SQLite, the embedded default: every shared scenario (test/support/
 * fleet-scenarios.ts) on a real database file of its own, in WAL mode.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { FleetConfig, fleetDatabase } from '../../controller/fleet/config.js';
import { FleetService } from '../../controller/fleet/service.js';
import { runFleetScenarios } from '../support/fleet-scenarios.js';

const dir = mkdtempSync(path.join(tmpdir(), 'thinkiosk-fleet-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

runFleetScenarios('sqlite', async () => `sqlite:${path.join(dir, `fleet-${++files}.sqlite`)}`);

test('[sqlite] without fleet.database the fleet lives in stateDir/fleet.sqlite, in WAL mode', async () => {
  const stateDir = path.join(dir, 'state');
  assert.deepEqual(fleetDatabase({}, stateDir), { dialect: 'sqlite', file: path.join(stateDir, 'fleet.sqlite') });
  assert.throws(() => fleetDatabase({}, undefined), /set fleet\.database .* or stateDir/);
  const service = await FleetService.open(FleetConfig.parse({}), { stateDir });
  await service.close();
  const file = new SQLite(path.join(stateDir, 'fleet.sqlite'), { readonly: true });
  try {
    assert.equal(file.pragma('journal_mode', { simple: true }), 'wal');
    const migrations = file.prepare('select name from fleet_migrations order by name').all();
    assert.deepEqual(migrations, [{ name: '0001-initial' }, { name: '0002-update-status' }]);
  } finally {
    file.close();
  }
  assert.ok(existsSync(path.join(stateDir, 'fleet.sqlite')));
});

test('fleet config: defaults, and a database URL that is neither SQLite nor PostgreSQL is refused', () => {
  const config = FleetConfig.parse({ database: 'postgresql://fleet@db.example/fleet' });
  assert.equal(config.checkInSeconds, 60);
  assert.equal(config.screenshotMaxBytes, 3 * 1024 * 1024);
  assert.deepEqual(fleetDatabase(config, undefined), { dialect: 'postgres', url: 'postgresql://fleet@db.example/fleet' });
  const wrong = FleetConfig.safeParse({ database: 'mysql://db/fleet', checkInSecs: 30 });
  assert.ok(!wrong.success);
  assert.deepEqual(wrong.error.issues.map((i) => i.message), ['must be sqlite:/path/to/fleet.sqlite or postgres://user@host/database', 'Unrecognized key: "checkInSecs"']);
});
