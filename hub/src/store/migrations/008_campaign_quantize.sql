-- A campaign that asked for `quantize` (issue 9 item 2) records what became of it once it completed: `pending` is
-- written in the transaction that completes the campaign, then `started` with the quantization job's id or
-- `refused` with the HUB_ERR_* code the job's start was refused with. NULL = the campaign did not ask, or has not
-- completed. A hub that stops while the state is `pending` starts the job at its next start.
ALTER TABLE campaigns ADD COLUMN quantization_state TEXT CHECK (quantization_state IN ('pending', 'started', 'refused'));
ALTER TABLE campaigns ADD COLUMN quantization_job_id TEXT REFERENCES quantizations (id);
ALTER TABLE campaigns ADD COLUMN quantization_error_code TEXT;
ALTER TABLE campaigns ADD COLUMN quantization_error TEXT;
ALTER TABLE campaigns ADD COLUMN quantization_updated_at_ms INTEGER;
CREATE INDEX campaigns_quantization_state ON campaigns (quantization_state);
