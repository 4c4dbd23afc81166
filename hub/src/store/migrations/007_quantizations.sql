-- Quantization jobs (issue 9): a model version made into a fully int8 TensorFlow Lite model, its activation ranges
-- calibrated on the fleet (devices report statistics of their own data; no example leaves a device) or at the hub on
-- an uploaded data set. A job moves calibrating → building → done | failed, persisted at every step; a job the hub
-- finds calibrating or building at start was interrupted and is set failed (HUB_ERR_QUANTIZATION_INTERRUPTED).
CREATE TABLE quantizations (
  id TEXT PRIMARY KEY,
  model_id TEXT NOT NULL REFERENCES models (id),
  version_id TEXT NOT NULL REFERENCES model_versions (id),
  calibration TEXT NOT NULL CHECK (calibration IN ('fleet', 'dataset')),
  dataset_id TEXT REFERENCES datasets (id),
  config TEXT NOT NULL,                        -- JSON: selector, minDevices, maxDevices, deadlineSec, percentile, histogramBins, maxExamplesPerDevice
  state TEXT NOT NULL CHECK (state IN ('calibrating', 'building', 'done', 'failed')),
  error TEXT,
  error_code TEXT,                             -- HUB_ERR_* of `error`
  example_count INTEGER NOT NULL DEFAULT 0,    -- examples behind the merged statistics
  ranges TEXT,                                 -- JSON [{ name, min, max }] per tensor, as the int8 model uses them
  artifact_sha256 TEXT,                        -- the .tflite in the blob store
  artifact_size_bytes INTEGER,
  deadline_at_ms INTEGER,                      -- fleet calibration: when the job stops waiting for reports
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  finished_at_ms INTEGER
);
CREATE INDEX quantizations_version ON quantizations (version_id, created_at_ms);
CREATE INDEX quantizations_state ON quantizations (state);

-- One row per device asked to calibrate; its report's statistics are merged only once it was accepted here.
CREATE TABLE quantization_devices (
  quantization_id TEXT NOT NULL REFERENCES quantizations (id) ON DELETE CASCADE,
  device_id TEXT NOT NULL,
  command_id TEXT NOT NULL UNIQUE,
  state TEXT NOT NULL CHECK (state IN ('asked', 'reported', 'rejected', 'refused', 'failed', 'cancelled')),
  reason_code TEXT,                            -- HUB_ERR_* of a rejected report, AGENT_ERR_* of a refusal or failure
  reason TEXT,
  example_count INTEGER,
  updated_at_ms INTEGER NOT NULL,
  PRIMARY KEY (quantization_id, device_id)
);
