/** Public surface of the fedfleet hub. */
export { buildHub, type BuildHubOptions, type Hub, type HubAddresses, type HubFastifyInstance } from './build-hub.js';
export { createConfig, loadConfig, DEFAULT_CONFIG, CONFIG_SOURCES, HubConfigSchema, type HubConfig, type ConfigSources } from './config.js';
export { HubError, HUB_ERRORS, HUB_ERROR_CODES, isHubError, type HubErrorCode } from './errors.js';
export { systemClock, createManualClock, type Clock, type ManualClock, type TimerHandle } from './clock.js';
export { createLogger, type Logger } from './logger.js';
export { HUB_VERSION } from './version.js';

export type { Broker, BrokerAddress, BrokerEventMap, HubToDeviceKind } from './broker/broker.js';
export type { Router, MessageHandler, DeviceMessage, RawDeviceMessage } from './broker/router.js';
export type { TransferMeter, Transfer } from './broker/transfer-meter.js';
export { HubEvents, type HubEventMap, type HubEventName } from './events/hub-events.js';
export type { OfflineReason } from './fleet/fleet-events.js';
export { TypedEmitter } from './events/typed-emitter.js';
export type { AuditLog, AuditEntry } from './audit/audit-log.js';
export type { Store } from './store/store.js';
export type { BlobStore, ArtifactInfo } from './store/blobs.js';
export { migrate, listMigrations, MIGRATIONS_DIR } from './store/migrate.js';
export type { HubIdentity } from './auth/hub-identity.js';
export type { Fleet } from './fleet/fleet.js';
export type { DeviceRecord, DeviceProfile, DeviceStatus, DeviceQuery } from './fleet/device-repo.js';
export type { Liveness, DeviceLiveness } from './fleet/liveness.js';
export { parseSelector, matchesSelector, selectorToSql, formatSelector, type LabelSelector, type SelectorTerm } from './fleet/label-selector.js';
export { type Labels, parseLabelList } from './fleet/labels.js';
export type { TelemetryJson } from './fleet/telemetry-json.js';
export type { DeviceJson, FleetHealth, EnrollResponse } from './fleet/schemas.js';
export type { HubMetrics } from './metrics/hub-metrics.js';
export { errorResponses, ErrorResponseSchema } from './http/error-schema.js';
