-- Finished telemetry blocks are bit-packed column by column (hub/src/telemetry/packed-block.ts): `format` says how
-- a block's `data` is encoded (hub/src/telemetry/block-format.ts: 1 rows, 2 packed, 3 packed rollup spreads).
-- Blocks written before this migration keep the row format (1) and are read as such; the open blocks
-- (telemetry_open_block) always use the row format, since they grow one row at a time.
ALTER TABLE telemetry_block ADD COLUMN format INTEGER NOT NULL DEFAULT 1 CHECK (format IN (1, 2, 3));
