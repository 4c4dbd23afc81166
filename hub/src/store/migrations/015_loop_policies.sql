-- The closed loop (issue 11 item 4, hub/docs/loop.md): policies that answer drift alerts on a device group with a
-- federated campaign and, when the campaign's version beats the serving one, a canary rollout. Runs and actions are
-- stored so a restarted hub picks up a campaign or rollout in flight and keeps the rate limits it had.
CREATE TABLE loop_policies (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  selector TEXT NOT NULL,
  model_id TEXT NOT NULL REFERENCES models (id),
  trig TEXT NOT NULL,                          -- JSON { rules, minAlerts | minFraction }
  campaign TEXT NOT NULL,                      -- JSON: POST /v1/rounds fields but model, baseVersion, selector
  canary TEXT NOT NULL,                        -- JSON { shadow, waves?, gate? }
  min_improvement_points REAL NOT NULL,
  cooldown_sec REAL NOT NULL,
  max_actions_per_day INTEGER NOT NULL,
  enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL
);

-- One campaign the loop started, followed to its outcome: training → canary → finished.
CREATE TABLE loop_runs (
  id TEXT PRIMARY KEY,
  policy_id TEXT NOT NULL REFERENCES loop_policies (id) ON DELETE CASCADE,
  campaign_id TEXT NOT NULL,
  base_version_id TEXT NOT NULL,
  baseline_accuracy REAL,                      -- the group's recent accuracy of the base version (device.quality), if known at start
  rollout_id TEXT,
  state TEXT NOT NULL CHECK (state IN ('training', 'canary', 'finished')),
  started_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL
);
CREATE INDEX loop_runs_active ON loop_runs (state);

-- What the loop did and why, newest last (GET /v1/loop-policies/:id/actions).
CREATE TABLE loop_actions (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  policy_id TEXT NOT NULL REFERENCES loop_policies (id) ON DELETE CASCADE,
  run_id TEXT,
  kind TEXT NOT NULL,
  reason TEXT NOT NULL,
  details TEXT NOT NULL,                       -- JSON
  at_ms INTEGER NOT NULL
);
CREATE INDEX loop_actions_policy ON loop_actions (policy_id, at_ms);
