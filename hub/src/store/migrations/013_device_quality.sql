-- Per-device model quality (issue 11 item 2, hub/docs/quality.md): accuracy samples per device, version and source,
-- the device's baseline accuracy per version, and the latest input-drift measure per device.

-- Bounded: the hub keeps the newest samples per (device, version, source) and prunes older ones in the same
-- transaction as each insert. `ref` names what produced a sample once (a round, a rollout) so a repeat of the same
-- event adds nothing; feedback samples have none.
CREATE TABLE device_quality_samples (
  id INTEGER PRIMARY KEY,
  device_id TEXT NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
  version_id TEXT NOT NULL,
  model_id TEXT,
  source TEXT NOT NULL CHECK (source IN ('federated-eval', 'self-test', 'feedback')),
  ref TEXT,
  accuracy REAL NOT NULL CHECK (accuracy >= 0 AND accuracy <= 1),
  examples INTEGER NOT NULL CHECK (examples >= 0),
  at_ms INTEGER NOT NULL
);
CREATE INDEX device_quality_samples_key ON device_quality_samples (device_id, version_id, source, at_ms);
CREATE UNIQUE INDEX device_quality_samples_ref ON device_quality_samples (device_id, version_id, source, ref) WHERE ref IS NOT NULL;

-- The rule that picks it is in hub/src/quality/baseline-rule.ts: self-test, else federated eval, else the mean of
-- the first feedback windows. `feedback_windows` counts the windows averaged while the source is feedback.
CREATE TABLE device_quality_baselines (
  device_id TEXT NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
  version_id TEXT NOT NULL,
  source TEXT NOT NULL CHECK (source IN ('federated-eval', 'self-test', 'feedback')),
  accuracy REAL NOT NULL,
  feedback_windows INTEGER NOT NULL DEFAULT 0,
  at_ms INTEGER NOT NULL,
  PRIMARY KEY (device_id, version_id)
);

CREATE TABLE device_input_drift (
  device_id TEXT PRIMARY KEY REFERENCES devices (id) ON DELETE CASCADE,
  psi REAL NOT NULL,
  ks REAL NOT NULL,
  examples INTEGER NOT NULL,
  baseline_examples INTEGER NOT NULL,
  at_ms INTEGER NOT NULL
);
