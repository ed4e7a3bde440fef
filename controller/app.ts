/** Wires configuration into a ready controller: used by main.ts, tests and benchmarks alike. */
import type http from 'node:http';
import type { ControllerConfig } from './config.js';
import { sessionKeyBytes } from './config.js';
import { jsonLogger, type Logger } from './log.js';
import { Metrics } from './metrics.js';
import { OpenStackBackend } from './openstack-backend.js';
import { OpenStackHttp } from './openstack/http.js';
import { createController } from './server.js';
import { SessionSealer } from './session-token.js';

export interface BuiltController { server: http.Server; metrics: Metrics; ephemeralKey: boolean }

export function buildController(config: ControllerConfig, logger: Logger = jsonLogger): BuiltController {
  const metrics = new Metrics();
  const http = new OpenStackHttp({
    timeoutMs: config.openstack.timeoutSeconds * 1000,
    caFile: config.openstack.caFile,
    observe: (service, seconds, outcome) => metrics.upstreamSeconds.observe({ service, outcome }, seconds),
  });
  const backend = new OpenStackBackend(config.openstack, http, logger);
  const { keys, ephemeral } = sessionKeyBytes(config);
  const server = createController({ config, backend, sealer: new SessionSealer(keys), metrics, logger });
  return { server, metrics, ephemeralKey: ephemeral };
}
