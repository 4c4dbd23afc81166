/** The hub's own metrics, created once and decorated on the hub as `hub.metrics`. */
import { createMetricsRegistry, type Counter, type MetricsRegistry } from './metrics-registry.js';

export interface HubMetrics {
  readonly registry: MetricsRegistry;
  /** Accepted device messages, by topic kind. */
  readonly mqttMessages: Counter;
  /** Device payloads rejected by the envelope decoder, by PROTO_ERR_* code. */
  readonly mqttRejected: Counter;
  /** QoS 1 redeliveries dropped by msgId, by topic kind. */
  readonly mqttDuplicates: Counter;
  /** Publishes and subscriptions refused by the device ACL, by action (publish, subscribe). */
  readonly aclDenials: Counter;
  /** Refused MQTT connections, by reason. */
  readonly authFailures: Counter;
  /** Topic handlers that threw, by topic kind. */
  readonly handlerErrors: Counter;
  /** Artifact bytes sent to devices in chunks. */
  readonly artifactBytesSent: Counter;
  /** `POST /v1/enroll` requests refused with 429, by limit (`requests`, `failures`). */
  readonly enrollRateLimited: Counter;
  /** MQTT connections closed by the stream guard (oversize packet, too slow to log in, …), by reason. */
  readonly mqttConnectionsRefused: Counter;
  /** Device messages dropped by the per-device rate limits, by topic kind and limit (`messages`, `bytes`). */
  readonly mqttRateLimited: Counter;
}

export function createHubMetrics(): HubMetrics {
  const registry = createMetricsRegistry();
  return {
    registry,
    mqttMessages: registry.counter('fedfleet_mqtt_messages_total', 'Device messages accepted, by topic kind.'),
    mqttRejected: registry.counter('fedfleet_mqtt_rejected_payloads_total', 'Device payloads rejected, by error code.'),
    mqttDuplicates: registry.counter('fedfleet_mqtt_duplicate_messages_total', 'Redelivered device messages dropped, by topic kind.'),
    aclDenials: registry.counter('fedfleet_mqtt_acl_denials_total', 'Publishes and subscriptions denied by the device ACL.'),
    authFailures: registry.counter('fedfleet_mqtt_auth_failures_total', 'MQTT connections refused, by reason.'),
    handlerErrors: registry.counter('fedfleet_mqtt_handler_errors_total', 'Topic handlers that failed, by topic kind.'),
    artifactBytesSent: registry.counter('fedfleet_artifact_bytes_sent_total', 'Artifact bytes sent to devices in chunks.'),
    enrollRateLimited: registry.counter('fedfleet_enroll_rate_limited_total', 'Enrollment requests refused by the per-client limits, by limit.'),
    mqttConnectionsRefused: registry.counter('fedfleet_mqtt_connections_refused_total', 'MQTT connections closed by the stream guard, by reason.'),
    mqttRateLimited: registry.counter('fedfleet_mqtt_rate_limited_total', 'Device messages dropped by the per-device rate limits, by topic kind and limit.'),
  };
}
