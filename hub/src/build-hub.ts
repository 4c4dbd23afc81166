/**
 * Builds a hub: a fastify instance with every capability registered as a plugin, not listening (STYLE 6).
 * Register more plugins on it before `ready()`/`listen()`; `listen()` starts both listeners (HTTP and MQTT) and
 * resolves to their URLs; `close()` releases everything (devices are disconnected, the database is closed).
 *
 * Decorators, available after `await hub.ready()`: `config`, `clock`, `store`, `metrics`, `events`, `audit`,
 * `adminToken`, `identity`, `broker`, `deviceCredentials`, `transfers`, `fleet`, `commands`, `evaluator`,
 * `coordinator`, `quantizations`, `rollouts`, `quality`, `health`, `loop`.
 */
import type { AddressInfo } from 'node:net';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController, type FastifyInstance, type FastifyBaseLogger, type RawReplyDefaultExpression, type RawRequestDefaultExpression, type RawServerDefault } from 'fastify';
import { auditPlugin } from './audit/audit-plugin.js';
import { authPlugin } from './auth/auth-plugin.js';
import { brokerPlugin } from './broker/broker-plugin.js';
import { systemClock, type Clock } from './clock.js';
import { commandsPlugin } from './commands/commands-plugin.js';
import { dashboardPlugin } from './dashboard/dashboard-plugin.js';
import type { HubConfig } from './config.js';
import { eventsPlugin } from './events/events-plugin.js';
import { fleetPlugin } from './fleet/fleet-plugin.js';
import { healthPlugin } from './health/health-plugin.js';
import { handleError, handleNotFound } from './http/error-handler.js';
import { loopPlugin } from './loop/loop-plugin.js';
import { refuseNonFiniteNumbers } from './http/finite-numbers.js';
import { healthRoute } from './http/health-route.js';
import { openapiPlugin } from './http/openapi-plugin.js';
import { addRequestLogging } from './http/request-log.js';
import { refuseAmbiguousHeaders } from './http/request-headers.js';
import { addSecurityHeaders } from './http/security-headers.js';
import { answerServerRefusals, handleClientError, httpServerOptions } from './http/transport-errors.js';
import { listenError } from './listen-error.js';
import { createLogger, type Logger } from './logger.js';
import { metricsPlugin } from './metrics/metrics-plugin.js';
import { datasetsPlugin } from './datasets/datasets-plugin.js';
import { mlPlugin } from './ml/ml-plugin.js';
import { modelsPlugin } from './models/models-plugin.js';
import { quantizePlugin } from './quantize/quantize-plugin.js';
import { qualityPlugin } from './quality/quality-plugin.js';
import { rolloutsPlugin } from './rollouts/rollouts-plugin.js';
import { roundsPlugin } from './rounds/rounds-plugin.js';
import { connectableHost, formatHostForUrl } from './net-address.js';
import { storePlugin } from './store/store-plugin.js';
import './hub-context.js';

export interface BuildHubOptions {
  /** Logger; default a pino logger at `config.logLevel` writing JSON lines to stdout. */
  logger?: Logger;
  /** Time source; default the system clock. Tests pass a manual clock. */
  clock?: Clock;
}

export interface HubAddresses {
  /** e.g. `http://127.0.0.1:8080` (a wildcard bind address is reported as loopback). */
  httpUrl: string;
  /** e.g. `mqtt://127.0.0.1:1883`. */
  mqttUrl: string;
  /** MQTT over WebSocket on the HTTP port, e.g. `ws://127.0.0.1:8080/mqtt`; absent when `mqttWsPath` is empty. */
  mqttWsUrl?: string;
}

export type HubFastifyInstance = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/** A hub: the fastify instance, whose `listen()` starts HTTP and MQTT and returns both addresses. */
export type Hub = Omit<HubFastifyInstance, 'listen'> & {
  /** Loads every plugin, then listens on `config.host` at `config.httpPort` and `config.mqttPort`. */
  listen(): Promise<HubAddresses>;
};

/** Largest accepted JSON request body. */
const BODY_LIMIT_BYTES = 1024 * 1024;

export function buildHub(config: HubConfig, options: BuildHubOptions = {}): Hub {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger(config.logLevel);
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // The hub writes its own request log lines (http/request-log.ts) so query-string secrets stay out of logs.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT_BYTES,
    // A request not received in full within this is refused (transport-errors.ts); fastify's default is no limit.
    requestTimeout: config.httpRequestTimeoutSec * 1000,
    http: httpServerOptions(config.httpRequestTimeoutSec * 1000),
    clientErrorHandler: handleClientError,
    // URLs the router refuses before any route runs (bad percent-encoding, a path parameter over its length limit):
    // the hub's error body and code, like every other refusal.
    frameworkErrors: (error, request, reply) => void handleError(error, request, reply),
    // Schema violations are errors, never silently dropped fields; every violation is reported.
    ajv: { customOptions: { removeAdditional: false, allErrors: true, coerceTypes: 'array', useDefaults: true } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.decorate('config', config);
  app.decorate('clock', clock);
  app.setErrorHandler(handleError);
  app.setNotFoundHandler(handleNotFound);
  addRequestLogging(app);
  refuseAmbiguousHeaders(app);
  answerServerRefusals(app);
  refuseNonFiniteNumbers(app);
  addSecurityHeaders(app);

  // Order matters twice: dependencies first, and onClose hooks run in reverse (the store closes last).
  app.register(openapiPlugin);
  app.register(storePlugin);
  app.register(metricsPlugin);
  app.register(eventsPlugin);
  app.register(auditPlugin);
  app.register(authPlugin);
  app.register(brokerPlugin);
  app.register(fleetPlugin);
  app.register(commandsPlugin);
  app.register(modelsPlugin);
  app.register(datasetsPlugin);
  app.register(mlPlugin);
  app.register(roundsPlugin);
  app.register(quantizePlugin);
  app.register(rolloutsPlugin);
  app.register(qualityPlugin);
  app.register(healthPlugin);
  app.register(loopPlugin);
  app.register(healthRoute);
  app.register(dashboardPlugin);

  const fastifyListen = app.listen.bind(app);
  const hub = app as unknown as Hub;
  hub.listen = async () => {
    await app.ready();
    const { host } = config;
    const mqtt = await app.broker.listen({ port: config.mqttPort, host }).catch((error: unknown) => {
      throw listenError(error, 'MQTT', host, config.mqttPort);
    });
    await fastifyListen({ port: config.httpPort, host }).catch((error: unknown) => {
      throw listenError(error, 'HTTP', host, config.httpPort);
    });
    const { port } = app.server.address() as AddressInfo;
    const httpHost = `${formatHostForUrl(connectableHost(config.host))}:${port}`;
    const addresses: HubAddresses = {
      httpUrl: `http://${httpHost}`, mqttUrl: mqtt.url, ...(config.mqttWsPath && config.broker === 'embedded' ? { mqttWsUrl: `ws://${httpHost}${config.mqttWsPath}` } : {}),
    };
    app.store.lock.recordAddresses(addresses); // named to a second hub refused on this data directory
    app.log.info(addresses, 'hub listening');
    return addresses;
  };
  return hub;
}
