-- Alerts (issue 11 item 3, hub/docs/health.md): one row per occurrence of a rule's condition on a subject
-- (`device:<id>`, `rollout:<id>`, `campaign:<id>`). An occurrence opens, is refreshed (`last_seen_at_ms`) while the
-- condition holds and resolves once; a later occurrence is a new row. At most one open row per (rule, subject): the
-- partial unique index makes a second open a constraint error, so a restarted hub re-uses the open row it finds.
CREATE TABLE alerts (
  id TEXT PRIMARY KEY,
  rule TEXT NOT NULL,
  severity TEXT NOT NULL CHECK (severity IN ('warning', 'critical')),
  subject TEXT NOT NULL,
  device_id TEXT,                              -- the device of a `device:<id>` subject, else NULL
  state TEXT NOT NULL CHECK (state IN ('open', 'resolved')),
  message TEXT NOT NULL,
  value REAL,                                  -- the measurement that opened (or last refreshed) it
  threshold REAL,                              -- the rule's opening threshold
  opened_at_ms INTEGER NOT NULL,
  last_seen_at_ms INTEGER NOT NULL,
  resolved_at_ms INTEGER,
  acknowledged_at_ms INTEGER,
  acknowledged_by TEXT
);
CREATE UNIQUE INDEX alerts_one_open ON alerts (rule, subject) WHERE state = 'open';
CREATE INDEX alerts_opened ON alerts (opened_at_ms);
CREATE INDEX alerts_device ON alerts (device_id, opened_at_ms);
