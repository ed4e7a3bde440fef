/** `node dist/controller/main.js --config FILE`: run the controller shim until SIGTERM. */
import { parseArgs } from 'node:util';
import { ROUTES } from '../contract/routes.js';
import { buildController, fleetOptions } from './app.js';
import { ADMIN_PAGE_PATH } from '../contract/routes.js';
import { fleetDatabase } from './fleet/config.js';
import { ConfigError, loadConfig } from './core/config.js';
import { jsonLogger } from './core/log.js';

const { values } = parseArgs({ options: { config: { type: 'string', short: 'c' } } });
const path = values.config ?? process.env.THINKIOSK_CONTROLLER_CONFIG;
if (!path) {
  console.error('usage: thinkiosk-controller --config /etc/thinkiosk/controller.json (or THINKIOSK_CONTROLLER_CONFIG)');
  process.exit(2);
}
try {
  const config = loadConfig(path);
  const { app, ephemeralKey, sharedLogouts, closeConsoles } = buildController(config);
  if (ephemeralKey) jsonLogger.log('warn', 'ephemeral-session-key', { hint: 'no sessionKeys configured: sessions end when this process does and do not work across instances. Generate one: openssl rand -base64 32' });
  if (!ephemeralKey && !sharedLogouts) jsonLogger.log('warn', 'logouts-in-memory', { hint: 'no stateDir configured: a logout is honoured by this instance until it restarts, not by others. Set stateDir (shared by all instances).' });
  const fleet = fleetOptions(config);
  if (!fleet) jsonLogger.log('warn', 'fleet-off', { hint: config.fleet === false ? 'fleet: false in the configuration: kiosks cannot enrol, no admin page' : 'no stateDir configured: the fleet (kiosk check-ins, the admin page) needs one for its database, or fleet.database' });
  app.server.on('error', (error) => { jsonLogger.log('error', 'listen-failed', { error: String(error) }); process.exit(1); });
  await app.listen({ port: config.listen.port, host: config.listen.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.listen.port;
  const base = `${config.tls ? 'https' : 'http'}://${config.listen.host}:${port}`;
  const fleetWhere = fleet ? fleetDatabase(fleet, config.stateDir) : null;
  jsonLogger.log('info', 'listening', {
    url: `${base}${ROUTES.identity.path}`, backend: config.backend,
    ...(fleetWhere ? { adminPage: `${base}${ADMIN_PAGE_PATH}`, fleetDatabase: fleetWhere.dialect === 'sqlite' ? fleetWhere.file : 'postgres' } : {}), ...(config.backend === 'openstack' ? { keystone: config.openstack.authUrl } : { inventory: config.static.inventoryFile }),
  });
  const stop = () => {
    closeConsoles();
    // close() also closes the idle keep-alive connections of kiosks, which would hold it open until they time out.
    void app.close().then(() => process.exit(0));
    setTimeout(() => process.exit(0), 3000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} catch (error) {
  console.error(error instanceof ConfigError ? error.message : `controller failed to start: ${String(error)}`);
  process.exit(1);
}
