-- Rollouts (issue 10, DESIGN §5): a model version's signed bundle deployed to the devices matching a label selector,
-- in cumulative waves gated on each device's self-test against the version it ran before. Every state change is
-- committed before its event; a hub that restarts resumes unfinished rollouts from these rows (hub/docs/rollouts.md).
CREATE TABLE rollouts (
  id TEXT PRIMARY KEY,
  model_id TEXT NOT NULL REFERENCES models (id),
  version_id TEXT NOT NULL REFERENCES model_versions (id),
  format TEXT NOT NULL,                        -- tfjs-layers | tflite
  encoding TEXT NOT NULL,                      -- fp32 | fp16 | int8
  selector TEXT NOT NULL,
  waves TEXT NOT NULL,                         -- JSON [WaveConfig]: percent | devices, thresholds, soakSec, shadow
  gate TEXT NOT NULL,                          -- JSON { maxAccuracyDropPts, maxLatencyFactor }
  options TEXT NOT NULL,                       -- JSON { deviceTimeoutSec, continuous }
  -- The bundle, fixed at creation so every device (and every re-send after a restart) gets the same bytes.
  manifest BLOB NOT NULL,                      -- canonical JSON manifest
  signature BLOB NOT NULL,                     -- Ed25519 over manifest
  payload TEXT NOT NULL,                       -- JSON ModelRef of the payload blob (fetch/chunk)
  state TEXT NOT NULL CHECK (state IN ('running', 'paused', 'completed', 'aborted', 'superseded')),
  current_wave INTEGER NOT NULL DEFAULT 0,     -- 1-based; 0 = none started
  error_code TEXT,                             -- HUB_ERR_* of reason
  reason TEXT,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  finished_at_ms INTEGER
);
CREATE INDEX rollouts_model ON rollouts (model_id, created_at_ms);
CREATE INDEX rollouts_state ON rollouts (state);

CREATE TABLE rollout_waves (
  rollout_id TEXT NOT NULL REFERENCES rollouts (id) ON DELETE CASCADE,
  wave INTEGER NOT NULL,                       -- 1-based
  state TEXT NOT NULL CHECK (state IN ('pending', 'shadowing', 'deploying', 'soaking', 'passed', 'aborted')),
  shadow_verdict TEXT CHECK (shadow_verdict IN ('promoted', 'worse')),
  started_at_ms INTEGER,
  soak_ends_at_ms INTEGER,                     -- the timer of a soaking wave, recomputed from here after a restart
  finished_at_ms INTEGER,
  PRIMARY KEY (rollout_id, wave)
);

-- One row per device the rollout targets; `verdict` is what it counts as in its wave's thresholds.
CREATE TABLE rollout_targets (
  rollout_id TEXT NOT NULL REFERENCES rollouts (id) ON DELETE CASCADE,
  device_id TEXT NOT NULL,
  wave INTEGER NOT NULL,
  position INTEGER NOT NULL,                   -- order of the targets at creation: online first, then by id
  mode TEXT NOT NULL CHECK (mode IN ('activate', 'shadow')),
  state TEXT NOT NULL CHECK (state IN ('pending', 'downloading', 'verifying', 'activated', 'shadowing', 'healthy', 'failed',
    'rolling-back', 'rolled-back', 'skipped')),
  verdict TEXT CHECK (verdict IN ('healthy', 'failed')),
  changed INTEGER NOT NULL DEFAULT 0,          -- 1 once the rollout installed its version (what an abort rolls back)
  command_id TEXT,                             -- the command the device owes an answer to
  command_kind TEXT CHECK (command_kind IN ('deploy', 'rollback')),
  previous_version_id TEXT,
  self_test TEXT,                              -- JSON SelfTest of the new version
  baseline TEXT,                               -- JSON SelfTest of the version it replaced, on the same examples
  shadow TEXT,                                 -- JSON ShadowStats, the latest SHADOWING report
  error_code TEXT,                             -- HUB_ERR_ROLLOUT_* or the device's AGENT_ERR_*
  reason TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  deadline_at_ms INTEGER,                      -- an online device that has not answered by then fails
  retry_at_ms INTEGER,                         -- a busy device is sent the command again then
  updated_at_ms INTEGER NOT NULL,
  PRIMARY KEY (rollout_id, device_id)
);
CREATE INDEX rollout_targets_device ON rollout_targets (device_id);
CREATE UNIQUE INDEX rollout_targets_command ON rollout_targets (command_id);
