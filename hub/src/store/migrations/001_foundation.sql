-- Foundation: fleet registry, enrollment, credentials, telemetry, artifacts, audit log, settings.
-- Times are integer milliseconds since the Unix epoch (`*_ms`); JSON columns hold UTF-8 JSON text.

CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at_ms INTEGER NOT NULL
);

CREATE TABLE enrollment_tokens (
  id TEXT PRIMARY KEY,
  token_sha256 TEXT NOT NULL UNIQUE,          -- hex sha256 of the 256-bit random token; the token itself is never stored
  labels TEXT NOT NULL DEFAULT '{}',
  expires_at_ms INTEGER NOT NULL,
  max_uses INTEGER NOT NULL CHECK (max_uses >= 1),
  uses INTEGER NOT NULL DEFAULT 0 CHECK (uses >= 0 AND uses <= max_uses),
  created_at_ms INTEGER NOT NULL,
  revoked_at_ms INTEGER
);

CREATE TABLE devices (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  profile TEXT NOT NULL DEFAULT '{}',
  status TEXT NOT NULL DEFAULT 'offline' CHECK (status IN ('online', 'offline')),
  last_seen_ms INTEGER,
  agent_version TEXT,
  active_model_id TEXT,
  active_version_id TEXT,
  heartbeat_sec INTEGER,
  enrollment_token_id TEXT REFERENCES enrollment_tokens (id),
  created_at_ms INTEGER NOT NULL,
  revoked_at_ms INTEGER                        -- revoked devices stay for history (rounds, audit) but are hidden
);
CREATE INDEX devices_status ON devices (status) WHERE revoked_at_ms IS NULL;

-- One row per label, so selectors (`k=v`, `k!=v`, `k`, `!k`) are indexed EXISTS queries.
CREATE TABLE device_labels (
  device_id TEXT NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (device_id, key)
);
CREATE INDEX device_labels_key_value ON device_labels (key, value);

CREATE TABLE device_credentials (
  device_id TEXT PRIMARY KEY REFERENCES devices (id) ON DELETE CASCADE,
  algorithm TEXT NOT NULL CHECK (algorithm = 'scrypt'),
  hash TEXT NOT NULL,                          -- hex
  salt TEXT NOT NULL,                          -- hex
  params TEXT NOT NULL,                        -- JSON { N, r, p, keyLength }
  created_at_ms INTEGER NOT NULL
);

CREATE TABLE telemetry_latest (
  device_id TEXT PRIMARY KEY REFERENCES devices (id) ON DELETE CASCADE,
  at_ms INTEGER NOT NULL,
  data TEXT NOT NULL
);

CREATE TABLE telemetry_raw (
  id INTEGER PRIMARY KEY,
  device_id TEXT NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
  at_ms INTEGER NOT NULL,
  data TEXT NOT NULL
);
CREATE INDEX telemetry_raw_at ON telemetry_raw (at_ms);
CREATE INDEX telemetry_raw_device_at ON telemetry_raw (device_id, at_ms);

CREATE TABLE artifacts (
  sha256 TEXT PRIMARY KEY CHECK (length(sha256) = 64),
  size_bytes INTEGER NOT NULL CHECK (size_bytes >= 0),
  media_type TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL
);

CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at_ms INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT,
  details TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at ON audit_log (at_ms);
