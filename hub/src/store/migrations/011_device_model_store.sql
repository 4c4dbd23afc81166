-- The on-device model store as each device reports it in its Status (DESIGN section 5, issue 10): the payload
-- sha256 of the serving version, the version it would roll back to and the challenger it runs in shadow. NULL = not
-- reported (no model store, nothing there, or an agent older than these fields). Active model and version are the
-- columns of 001; these complete what `fedfleet devices ls|show` shows and what rollouts reconcile against.
ALTER TABLE devices ADD COLUMN active_sha256 TEXT;
ALTER TABLE devices ADD COLUMN previous_version_id TEXT;
ALTER TABLE devices ADD COLUMN shadow_version_id TEXT;
