import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkLink } from '../../app/core/system/diagnostics.js';

/** A directory laid out like /sys/class/net: <iface>/operstate and, when readable, <iface>/carrier. */
async function netClass(interfaces: Record<string, { operstate: string; carrier?: string }>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'thinkiosk-net-'));
  for (const [name, { operstate, carrier }] of Object.entries(interfaces)) {
    await mkdir(join(dir, name));
    await writeFile(join(dir, name, 'operstate'), `${operstate}\n`);
    if (carrier !== undefined) await writeFile(join(dir, name, 'carrier'), `${carrier}\n`);
  }
  return dir;
}

test('link check: up, down, and "unknown" with carrier (tun, some Wi-Fi drivers); loopback ignored', async (t) => {
  const dirs: string[] = [];
  t.after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
  const mixed = await netClass({ lo: { operstate: 'unknown', carrier: '1' }, eth0: { operstate: 'down' }, wlan0: { operstate: 'up', carrier: '1' } });
  const onlyDown = await netClass({ lo: { operstate: 'unknown', carrier: '1' }, eth0: { operstate: 'down' }, wlan0: { operstate: 'dormant', carrier: '0' } });
  const tun = await netClass({ tun0: { operstate: 'unknown', carrier: '1' } });
  const none = await netClass({ lo: { operstate: 'unknown', carrier: '1' } });
  dirs.push(mixed, onlyDown, tun, none);

  assert.deepEqual(await checkLink(mixed), { name: 'Network link', ok: true, detail: 'Up: wlan0; down: eth0.' });
  const down = await checkLink(onlyDown);
  assert.equal(down.ok, false);
  assert.match(down.detail, /No network interface is up \(eth0, wlan0 down\)\. Plug in the network cable/);
  assert.equal((await checkLink(tun)).ok, true);
  assert.match((await checkLink(none)).detail, /no network interface/);
  assert.equal((await checkLink(join(mixed, 'missing'))).ok, false);
});
