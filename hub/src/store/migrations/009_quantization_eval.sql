-- A quantization job evaluates the int8 .tflite it built on the fleet (issue 9: integer-only inference on the
-- microcontroller profiles and on agents told to serve int8): calibrating → building → evaluating → done. Evaluation
-- never fails a job — the file is good — so `evaluating` leads only to `done`, with `eval_state` saying how the
-- evaluation ended. SQLite cannot change a CHECK constraint in place, so `quantizations` is rebuilt with the new state
-- (its rows, ids and the rows that refer to it kept); foreign keys are checked at commit, once every id is back.
PRAGMA defer_foreign_keys = ON;

CREATE TABLE quantizations_copy AS SELECT * FROM quantizations;
CREATE TABLE quantization_devices_copy AS SELECT * FROM quantization_devices;
DROP TABLE quantization_devices;
DROP TABLE quantizations;

CREATE TABLE quantizations (
  id TEXT PRIMARY KEY,
  model_id TEXT NOT NULL REFERENCES models (id),
  version_id TEXT NOT NULL REFERENCES model_versions (id),
  calibration TEXT NOT NULL CHECK (calibration IN ('fleet', 'dataset')),
  dataset_id TEXT REFERENCES datasets (id),
  config TEXT NOT NULL,                        -- JSON: selector, minDevices, maxDevices, deadlineSec, percentile, histogramBins, maxExamplesPerDevice
  state TEXT NOT NULL CHECK (state IN ('calibrating', 'building', 'evaluating', 'done', 'failed')),
  error TEXT,
  error_code TEXT,                             -- HUB_ERR_* of `error`
  example_count INTEGER NOT NULL DEFAULT 0,    -- examples behind the merged statistics
  ranges TEXT,                                 -- JSON [{ name, min, max }] per tensor, as the int8 model uses them
  artifact_sha256 TEXT,                        -- the .tflite in the blob store
  artifact_size_bytes INTEGER,
  deadline_at_ms INTEGER,                      -- fleet calibration: when the job stops waiting for reports
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  finished_at_ms INTEGER,
  -- The fleet evaluation of the int8 file. eval_selector: the devices asked (NULL = the job does not evaluate);
  -- eval_state: NULL until it starts, then evaluating → done | no-results | interrupted, or no-devices at once.
  eval_selector TEXT,
  eval_state TEXT CHECK (eval_state IN ('evaluating', 'done', 'no-devices', 'no-results', 'interrupted')),
  eval_deadline_at_ms INTEGER
);
INSERT INTO quantizations (id, model_id, version_id, calibration, dataset_id, config, state, error, error_code, example_count,
    ranges, artifact_sha256, artifact_size_bytes, deadline_at_ms, created_at_ms, updated_at_ms, finished_at_ms)
  SELECT id, model_id, version_id, calibration, dataset_id, config, state, error, error_code, example_count,
    ranges, artifact_sha256, artifact_size_bytes, deadline_at_ms, created_at_ms, updated_at_ms, finished_at_ms
  FROM quantizations_copy;
CREATE INDEX quantizations_version ON quantizations (version_id, created_at_ms);
CREATE INDEX quantizations_state ON quantizations (state);

-- As in 007: one row per device asked to calibrate.
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
INSERT INTO quantization_devices (quantization_id, device_id, command_id, state, reason_code, reason, example_count, updated_at_ms)
  SELECT quantization_id, device_id, command_id, state, reason_code, reason, example_count, updated_at_ms FROM quantization_devices_copy;

DROP TABLE quantization_devices_copy;
DROP TABLE quantizations_copy;

-- One row per device asked to evaluate the int8 file: its EvalResult (examples, accuracy, loss) once it answered,
-- or why not (AGENT_ERR_MODEL_TOO_LARGE with the numbers, …).
CREATE TABLE quantization_eval_devices (
  quantization_id TEXT NOT NULL REFERENCES quantizations (id) ON DELETE CASCADE,
  device_id TEXT NOT NULL,
  command_id TEXT NOT NULL UNIQUE,
  state TEXT NOT NULL CHECK (state IN ('asked', 'evaluated', 'rejected', 'refused', 'failed', 'cancelled')),
  reason_code TEXT,                            -- HUB_ERR_EVAL_RESULT_INVALID, or the device's AGENT_ERR_*
  reason TEXT,
  example_count INTEGER,
  accuracy REAL,
  loss REAL,
  updated_at_ms INTEGER NOT NULL,
  PRIMARY KEY (quantization_id, device_id)
);
