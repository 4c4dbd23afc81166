-- Which artifacts a device may download over fetch/chunk (proto/docs/mqtt-topics.md, "Who may fetch what"): one row
-- per artifact a command the hub sent the device names (a ModelRef's sha256). Written before the command is
-- published, deleted when the command is settled (answered, cancelled, its round/rollout/job over), and otherwise
-- dropped at `expires_at_ms` (hub/src/store/artifact-grants.ts: a TTL after the last send), so a device resuming a
-- download after a hub restart still may, and the table does not grow forever. No foreign keys: a grant outlives
-- nothing it names (the TTL bounds it), and commands may name devices or artifacts the hub has since forgotten.
CREATE TABLE artifact_grants (
  device_id TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  command_id TEXT NOT NULL,
  owner TEXT NOT NULL,                         -- the sender at the commands capability (rounds, rollouts, quantize); '' when unowned
  owner_key TEXT NOT NULL,                     -- the owner's grouping (round id, job id), to revoke with settleAll
  granted_at_ms INTEGER NOT NULL,
  expires_at_ms INTEGER NOT NULL,
  PRIMARY KEY (device_id, sha256, command_id)
) WITHOUT ROWID;
CREATE INDEX artifact_grants_by_command ON artifact_grants (command_id);
CREATE INDEX artifact_grants_by_owner ON artifact_grants (owner, owner_key);
CREATE INDEX artifact_grants_by_expiry ON artifact_grants (expires_at_ms);
