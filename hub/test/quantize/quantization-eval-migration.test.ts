/**
 * Migration 009 rebuilds `quantizations` to admit the `evaluating` state (SQLite cannot change a CHECK in place):
 * a database written before it keeps every job, every calibration device row and the campaigns that point at a job,
 * with foreign keys enforced throughout, and the rebuilt tables still refuse what they refused.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { openDatabase } from '../../src/store/database.js';
import { listMigrations, migrate, MIGRATIONS_DIR } from '../../src/store/migrate.js';
import { tempDataDir } from '../helpers/test-hub.js';

const SHA = 'a'.repeat(64);

describe('migration 009 (quantization evaluation)', () => {
  it('keeps jobs, their devices and the campaigns pointing at them; evaluating becomes a state', () => {
    const dir = tempDataDir();
    const before = join(dir, 'until-008');
    mkdirSync(before);
    for (const file of listMigrations().filter((m) => m.version <= 8)) copyFileSync(file.path, join(before, file.name));
    const db = openDatabase(join(dir, 'hub.db'));
    onTestFinished(() => void db.close());
    migrate(db, before);
    db.exec(`
      INSERT INTO artifacts (sha256, size_bytes, media_type, created_at_ms) VALUES ('${SHA}', 1, 'x', 0);
      INSERT INTO models VALUES ('m', 'm', 'imported', '', '[4]', 3, 1, 0);
      INSERT INTO model_versions (id, model_id, version, source, format, quantization, artifact_sha256, size_bytes, param_count, created_at_ms)
        VALUES ('v', 'm', 1, 'import', 'tfjs-layers', 'fp32', '${SHA}', 1, 1, 0);
      INSERT INTO quantizations (id, model_id, version_id, calibration, config, state, artifact_sha256, created_at_ms, updated_at_ms, finished_at_ms)
        VALUES ('q1', 'm', 'v', 'fleet', '{"selector":"site=x"}', 'done', '${SHA}', 1, 2, 3), ('q2', 'm', 'v', 'fleet', '{}', 'calibrating', NULL, 4, 4, NULL);
      INSERT INTO quantization_devices VALUES ('q1', 'd1', 'c1', 'reported', NULL, NULL, 5, 2), ('q2', 'd1', 'c2', 'asked', NULL, NULL, NULL, 4);
      INSERT INTO campaigns (id, model_id, base_version_id, current_version_id, state, rounds_total, config, created_at_ms, updated_at_ms,
        quantization_state, quantization_job_id) VALUES ('c', 'm', 'v', 'v', 'completed', 1, '{}', 0, 0, 'started', 'q1');
    `);
    const jobs = () => db.prepare('SELECT id, state, config, artifact_sha256, finished_at_ms FROM quantizations ORDER BY id').all();
    const devices = () => db.prepare('SELECT * FROM quantization_devices ORDER BY command_id').all();
    const [jobsBefore, devicesBefore] = [jobs(), devices()];

    expect(migrate(db, MIGRATIONS_DIR).applied).toContain('009_quantization_eval.sql');
    expect(jobs()).toEqual(jobsBefore);
    expect(devices()).toEqual(devicesBefore);
    expect(db.prepare('SELECT quantization_job_id AS job FROM campaigns').get()).toEqual({ job: 'q1' });
    expect(db.prepare('SELECT eval_selector, eval_state FROM quantizations WHERE id = ?').get('q1')).toEqual({ eval_selector: null, eval_state: null });
    expect(db.pragma('foreign_key_check')).toEqual([]);

    db.prepare("UPDATE quantizations SET state = 'evaluating', eval_state = 'evaluating' WHERE id = 'q2'").run();
    expect(() => db.prepare("UPDATE quantizations SET eval_state = 'maybe' WHERE id = 'q2'").run()).toThrow(/CHECK/);
    // The campaign still refers to its job, and a job's devices still go with it.
    expect(() => db.prepare("DELETE FROM quantizations WHERE id = 'q1'").run()).toThrow(/FOREIGN KEY/);
    db.prepare("DELETE FROM quantizations WHERE id = 'q2'").run();
    expect(db.prepare("SELECT COUNT(*) AS n FROM quantization_devices WHERE quantization_id = 'q2'").get()).toEqual({ n: 0 });
  });
});
