-- Federated learning (DESIGN §4). A campaign runs N rounds; each round moves
-- created → selecting → training → aggregating → evaluating → committed | failed, persisted at every step.
CREATE TABLE campaigns (
  id TEXT PRIMARY KEY,
  model_id TEXT NOT NULL REFERENCES models (id),
  base_version_id TEXT NOT NULL REFERENCES model_versions (id),
  current_version_id TEXT NOT NULL REFERENCES model_versions (id),
  state TEXT NOT NULL CHECK (state IN ('running', 'completed', 'failed', 'cancelled')),
  rounds_total INTEGER NOT NULL CHECK (rounds_total >= 1),
  rounds_done INTEGER NOT NULL DEFAULT 0,
  config TEXT NOT NULL,                        -- JSON: selector, clients, strategy, epochs, …
  strategy_state BLOB,                         -- server-optimizer state after the last committed round
  error TEXT,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL
);
CREATE INDEX campaigns_state ON campaigns (state);

CREATE TABLE rounds (
  id TEXT PRIMARY KEY,
  campaign_id TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
  number INTEGER NOT NULL,                     -- 1-based within the campaign
  state TEXT NOT NULL CHECK (state IN ('created', 'selecting', 'training', 'aggregating', 'evaluating', 'committed', 'failed')),
  base_version_id TEXT NOT NULL REFERENCES model_versions (id),
  result_version_id TEXT REFERENCES model_versions (id),
  artifact_sha256 TEXT,                        -- downlink artifact: the base model in the downlink encoding
  target_clients INTEGER NOT NULL,
  min_clients INTEGER NOT NULL,
  seed INTEGER NOT NULL,
  deadline_at_ms INTEGER,                      -- training deadline
  eval_deadline_at_ms INTEGER,
  bytes_down INTEGER NOT NULL DEFAULT 0,
  bytes_up INTEGER NOT NULL DEFAULT 0,
  metrics TEXT NOT NULL DEFAULT '{}',          -- JSON: accuracy, loss, trainLoss, updates, …
  error TEXT,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  UNIQUE (campaign_id, number)
);
CREATE INDEX rounds_state ON rounds (state);

-- One row per selected device. An accepted update is persisted (blob + example count) before it counts.
CREATE TABLE round_participants (
  round_id TEXT NOT NULL REFERENCES rounds (id) ON DELETE CASCADE,
  device_id TEXT NOT NULL,
  command_id TEXT NOT NULL UNIQUE,
  state TEXT NOT NULL,                         -- selected | training | refused | failed | dropped | updated | cancelled
  reason TEXT,
  update_sha256 TEXT,
  example_count INTEGER,
  update_bytes INTEGER,
  train_metrics TEXT,                          -- JSON TrainMetrics
  eval_command_id TEXT UNIQUE,
  eval_examples INTEGER,
  eval_loss REAL,
  eval_accuracy REAL,
  updated_at_ms INTEGER NOT NULL,
  PRIMARY KEY (round_id, device_id)
);

-- Every rejected update with its stable code, so operators see who sends bad updates.
CREATE TABLE update_rejections (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  round_id TEXT,
  device_id TEXT NOT NULL,
  code TEXT NOT NULL,
  detail TEXT,
  at_ms INTEGER NOT NULL
);
CREATE INDEX update_rejections_round ON update_rejections (round_id);
CREATE INDEX update_rejections_device ON update_rejections (device_id);
