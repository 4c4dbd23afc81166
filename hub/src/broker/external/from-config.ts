/** Builds the {@link ExternalBroker} a hub config asks for (`broker` is an mqtt:// or mqtts:// URL). */
import type { Clock } from '../../clock.js';
import type { HubConfig } from '../../config.js';
import type { HubLogger } from '../../logger.js';
import type { HubMetrics } from '../../metrics/hub-metrics.js';
import type { SqliteDatabase } from '../../store/database.js';
import type { Router } from '../router.js';
import { createExternalBroker, type ExternalBroker } from './external-broker.js';

export interface ExternalBrokerDeps {
  config: HubConfig;
  router: Router;
  db: SqliteDatabase;
  log: HubLogger;
  metrics: HubMetrics;
  clock: Clock;
}

export function externalBrokerFromConfig({ config, router, db, log, metrics, clock }: ExternalBrokerDeps): ExternalBroker {
  // Read at every re-sync: devices enrolled or revoked by any hub sharing the database count.
  const active = db.prepare<[], { id: string }>('SELECT id FROM devices WHERE revoked_at_ms IS NULL');
  return createExternalBroker({
    router,
    url: config.broker,
    // The config validation requires both whenever `broker` is not `embedded`.
    username: config.brokerUsername!,
    password: config.brokerPassword!,
    dataDir: config.dataDir,
    activeDeviceIds: () => new Set(active.all().map((row) => row.id)),
    log,
    metrics,
    clock,
    maxPayloadBytes: config.maxPayloadBytes,
  });
}
