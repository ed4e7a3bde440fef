/** `node dist/controller/main.js --config FILE`: run the controller shim until SIGTERM. */
import { parseArgs } from 'node:util';
import { ROUTES } from '../contract/routes.js';
import { buildController } from './app.js';
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
  app.server.on('error', (error) => { jsonLogger.log('error', 'listen-failed', { error: String(error) }); process.exit(1); });
  await app.listen({ port: config.listen.port, host: config.listen.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.listen.port;
  jsonLogger.log('info', 'listening', { url: `${config.tls ? 'https' : 'http'}://${config.listen.host}:${port}${ROUTES.identity.path}`, backend: config.backend, ...(config.backend === 'openstack' ? { keystone: config.openstack.authUrl } : { inventory: config.static.inventoryFile }) });
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
