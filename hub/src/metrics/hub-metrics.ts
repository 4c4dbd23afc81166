/**
 * The hub's own metrics, created once per hub and decorated on it as `hub.metrics`. Names and labels are the
 * scrape contract (hub/docs/metrics.md): a rename breaks dashboards, so add, never rename.
 */
import { createMetricsRegistry, type Counter, type Histogram, type MetricsRegistry } from './metrics-registry.js';

/** Upper bounds (seconds) of message lag: sub-second is healthy, tens of seconds is a backlog. */
const LAG_BUCKETS_SEC = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Upper bounds (seconds) of rounds, rollouts and quantization jobs: from a few seconds to a day. */
const JOB_BUCKETS_SEC = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21_600, 86_400];

export interface HubMetrics {
  readonly registry: MetricsRegistry;
  /** Accepted device messages, by topic kind. */
  readonly mqttMessages: Counter;
  /** Messages the hub published to devices, by topic kind. */
  readonly mqttMessagesSent: Counter;
  /** Seconds from a device's `sentAtMs` to the hub's receipt of an accepted message, by topic kind. */
  readonly mqttMessageLag: Histogram;
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
  /** Chunk requests for an artifact the device was not granted (answered as unknown). */
  readonly artifactFetchDenied: Counter;
  /** `POST /v1/enroll` requests refused with 429, by limit (`requests`, `failures`). */
  readonly enrollRateLimited: Counter;
  /** MQTT connections closed by the stream guard (oversize packet, too slow to log in, …), by reason. */
  readonly mqttConnectionsRefused: Counter;
  /** Device messages dropped by the per-device rate limits, by topic kind and limit (`messages`, `bytes`). */
  readonly mqttRateLimited: Counter;
  /** Messages for a persistent session dropped because it holds MAX_OUTGOING_PER_CLIENT unacknowledged ones. */
  readonly mqttOutgoingDropped: Counter;
  /** Weight updates a round refused, by HUB_ERR_* code. */
  readonly updateRejections: Counter;
  /** Rounds from creation to committed or failed, in seconds, by outcome. */
  readonly roundDuration: Histogram;
  /** Rollouts from creation to completed, aborted or superseded, in seconds, by outcome. */
  readonly rolloutDuration: Histogram;
  /** Quantization jobs started and ended, by event (`started`, `completed`, `failed`). */
  readonly quantizationJobs: Counter;
  /** Quantization jobs from start to completed or failed, in seconds, by outcome. */
  readonly quantizationDuration: Histogram;
}

export function createHubMetrics(): HubMetrics {
  const registry = createMetricsRegistry();
  const kind = ['kind'];
  return {
    registry,
    mqttMessages: registry.counter('fedfleet_mqtt_messages_total', 'Device messages accepted, by topic kind.', kind),
    mqttMessagesSent: registry.counter('fedfleet_mqtt_messages_sent_total', 'Messages published to devices, by topic kind.', kind),
    mqttMessageLag: registry.histogram(
      'fedfleet_mqtt_message_lag_seconds', 'Seconds from the device sentAtMs to receipt by the hub, by topic kind.', LAG_BUCKETS_SEC, kind,
    ),
    mqttRejected: registry.counter('fedfleet_mqtt_rejected_payloads_total', 'Device payloads rejected, by error code.', ['code']),
    mqttDuplicates: registry.counter('fedfleet_mqtt_duplicate_messages_total', 'Redelivered device messages dropped, by topic kind.', kind),
    aclDenials: registry.counter('fedfleet_mqtt_acl_denials_total', 'Publishes and subscriptions denied by the device ACL.', ['action']),
    authFailures: registry.counter('fedfleet_mqtt_auth_failures_total', 'MQTT connections refused, by reason.', ['reason']),
    handlerErrors: registry.counter('fedfleet_mqtt_handler_errors_total', 'Topic handlers that failed, by topic kind.', kind),
    artifactBytesSent: registry.counter('fedfleet_artifact_bytes_sent_total', 'Artifact bytes sent to devices in chunks.'),
    artifactFetchDenied: registry.counter(
      'fedfleet_artifact_fetch_denied_total', 'Chunk requests for artifacts not granted to the requesting device.',
    ),
    enrollRateLimited: registry.counter('fedfleet_enroll_rate_limited_total', 'Enrollment requests refused by the per-client limits, by limit.', ['limit']),
    mqttConnectionsRefused: registry.counter(
      'fedfleet_mqtt_connections_refused_total', 'MQTT connections closed by the stream guard, by reason.', ['reason'],
    ),
    mqttRateLimited: registry.counter(
      'fedfleet_mqtt_rate_limited_total', 'Device messages dropped by the per-device rate limits, by topic kind and limit.', ['kind', 'limit'],
    ),
    mqttOutgoingDropped: registry.counter(
      'fedfleet_mqtt_outgoing_dropped_total', 'Messages to a device dropped because its session holds the most unacknowledged ones.',
    ),
    updateRejections: registry.counter('fedfleet_round_update_rejections_total', 'Weight updates refused by rounds, by error code.', ['code']),
    roundDuration: registry.histogram('fedfleet_round_duration_seconds', 'Rounds from creation to their end, by outcome.', JOB_BUCKETS_SEC, ['outcome']),
    rolloutDuration: registry.histogram('fedfleet_rollout_duration_seconds', 'Rollouts from creation to their end, by outcome.', JOB_BUCKETS_SEC, ['outcome']),
    quantizationJobs: registry.counter('fedfleet_quantization_jobs_total', 'Quantization jobs started and ended, by event.', ['event']),
    quantizationDuration: registry.histogram(
      'fedfleet_quantization_duration_seconds', 'Quantization jobs from start to their end, by outcome.', JOB_BUCKETS_SEC, ['outcome'],
    ),
  };
}
