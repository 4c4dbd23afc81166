-- Model registry (DESIGN §3, §5): models and versions with lineage; the bytes live in `artifacts`.
CREATE TABLE models (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  architecture TEXT NOT NULL,                  -- built-in architecture id, or 'imported'
  description TEXT NOT NULL DEFAULT '',
  input_shape TEXT NOT NULL,                   -- JSON array
  num_classes INTEGER NOT NULL,
  param_count INTEGER NOT NULL,
  created_at_ms INTEGER NOT NULL
);

CREATE TABLE model_versions (
  id TEXT PRIMARY KEY,
  model_id TEXT NOT NULL REFERENCES models (id) ON DELETE CASCADE,
  version INTEGER NOT NULL,                    -- 1, 2, … per model
  parent_version_id TEXT REFERENCES model_versions (id),
  round_id TEXT UNIQUE,                        -- the federated round that produced it (NULL: created or imported)
  campaign_id TEXT,
  source TEXT NOT NULL CHECK (source IN ('init', 'import', 'round')),
  format TEXT NOT NULL,                        -- 'tfjs-layers'
  quantization TEXT NOT NULL,                  -- 'fp32' | 'fp16' | 'int8'
  artifact_sha256 TEXT NOT NULL REFERENCES artifacts (sha256),
  size_bytes INTEGER NOT NULL,
  param_count INTEGER NOT NULL,
  metrics TEXT NOT NULL DEFAULT '{}',          -- JSON: accuracy, loss, examples, …
  created_at_ms INTEGER NOT NULL,
  UNIQUE (model_id, version)
);
