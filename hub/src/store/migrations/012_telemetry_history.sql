-- Telemetry history in packed blocks (hub/src/telemetry/): one row per device, tier and block instead of one JSON
-- row per sample (~513 bytes per sample with its two indexes). Tier 0 = raw samples, 1 = minute rollups,
-- 2 = hour rollups; `data` is a column-block (delta-of-delta timestamps, varint residuals per metric).
-- The old raw JSON rows are dropped, not converted: they are at most one retention window (7 days by default) of
-- history, and the latest sample of every device stays in telemetry_latest.

DROP TABLE telemetry_raw;

-- Finished blocks are inserted once, in time order, so their pages fill up; the block still growing of each device
-- and tier lives in telemetry_open_block and is rewritten at every batch (bounded: one row per device and tier).
CREATE TABLE telemetry_block (
  id INTEGER PRIMARY KEY,
  device_id TEXT NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
  tier INTEGER NOT NULL CHECK (tier IN (0, 1, 2)),
  start_ms INTEGER NOT NULL,
  end_ms INTEGER NOT NULL,                    -- newest sample (raw) or last millisecond of the newest bucket
  rows INTEGER NOT NULL CHECK (rows >= 0),
  data BLOB NOT NULL
);
CREATE INDEX telemetry_block_device ON telemetry_block (device_id, tier, start_ms);
CREATE INDEX telemetry_block_age ON telemetry_block (tier, end_ms);

CREATE TABLE telemetry_open_block (
  device_id TEXT NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
  tier INTEGER NOT NULL CHECK (tier IN (0, 1, 2)),
  start_ms INTEGER NOT NULL,
  end_ms INTEGER NOT NULL,
  rows INTEGER NOT NULL CHECK (rows >= 0),
  data BLOB NOT NULL,
  PRIMARY KEY (device_id, tier)
);
CREATE INDEX telemetry_open_block_age ON telemetry_open_block (tier, end_ms);
