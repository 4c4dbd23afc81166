-- Validation sets for hub-side evaluation (DESIGN §4 "optional hub-side evaluation on a validation set the operator
-- provides"): labelled examples in the agent's sample layout, kept whole in the row (they are small and read whole).
CREATE TABLE datasets (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  description TEXT NOT NULL DEFAULT '',
  input_shape TEXT NOT NULL,                   -- JSON array
  num_classes INTEGER NOT NULL,
  examples INTEGER NOT NULL,
  x BLOB NOT NULL,                             -- examples × prod(input_shape) float32, little-endian
  y BLOB NOT NULL,                             -- one label byte per example
  sha256 TEXT NOT NULL,                        -- of x then y
  created_at_ms INTEGER NOT NULL
);
