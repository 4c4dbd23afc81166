import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { nextBaseline } from '../../src/quality/baseline-rule.js';
import { createQualityRepo, type QualitySample } from '../../src/quality/quality-repo.js';
import { openDatabase } from '../../src/store/database.js';
import { migrate } from '../../src/store/migrate.js';
import { tempDataDir } from '../helpers/test-hub.js';

function openRepo(maxSamplesPerSeries?: number) {
  const db = openDatabase(join(tempDataDir(), 'hub.db'));
  onTestFinished(() => void db.close());
  migrate(db);
  db.prepare("INSERT INTO devices (id, name, created_at_ms) VALUES ('dev-a', 'a', 0)").run();
  return { db, repo: createQualityRepo(db, maxSamplesPerSeries === undefined ? {} : { maxSamplesPerSeries }) };
}

const sample = (s: Partial<QualitySample>): QualitySample => ({
  deviceId: 'dev-a', versionId: 'ver-1', modelId: 'mod-1', source: 'feedback', ref: null, accuracy: 0.9, examples: 100, atMs: 1000, ...s,
});

describe('quality store: the baseline rule', () => {
  it('averages the first three feedback windows, then holds', () => {
    const { repo } = openRepo();
    expect(repo.addSample(sample({ accuracy: 0.9, atMs: 1 }))?.baseline).toMatchObject({ source: 'feedback', accuracy: 0.9, atMs: 1 });
    expect(repo.addSample(sample({ accuracy: 0.8, atMs: 2 }))?.baseline.accuracy).toBeCloseTo(0.85, 12);
    expect(repo.addSample(sample({ accuracy: 0.7, atMs: 3 }))?.baseline.accuracy).toBeCloseTo(0.8, 12);
    // The fourth window (a drifted device) no longer moves it.
    expect(repo.addSample(sample({ accuracy: 0.1, atMs: 4 }))?.baseline.accuracy).toBeCloseTo(0.8, 12);
    expect(repo.baselineOf('dev-a', 'ver-1')).toMatchObject({ source: 'feedback', feedbackWindows: 3, atMs: 1 });
  });

  it('prefers a self-test, then a federated evaluation, over feedback; the first of a source wins', () => {
    const { repo } = openRepo();
    repo.addSample(sample({ accuracy: 0.5, atMs: 1 }));
    expect(repo.addSample(sample({ source: 'federated-eval', ref: 'round:r1', accuracy: 0.7, atMs: 2 }))?.baseline).toMatchObject({ source: 'federated-eval', accuracy: 0.7 });
    expect(repo.addSample(sample({ source: 'federated-eval', ref: 'round:r2', accuracy: 0.6, atMs: 3 }))?.baseline.accuracy).toBe(0.7);
    expect(repo.addSample(sample({ source: 'self-test', ref: 'rollout:o1', accuracy: 0.95, atMs: 4 }))?.baseline).toMatchObject({ source: 'self-test', accuracy: 0.95, atMs: 4 });
    expect(repo.addSample(sample({ source: 'self-test', ref: 'rollout:o2', accuracy: 0.2, atMs: 5 }))?.baseline.accuracy).toBe(0.95);
    expect(repo.addSample(sample({ source: 'federated-eval', ref: 'round:r3', accuracy: 0.1, atMs: 6 }))?.baseline.accuracy).toBe(0.95);
    // Each version has its own.
    expect(repo.addSample(sample({ versionId: 'ver-2', accuracy: 0.4 }))?.baseline).toMatchObject({ source: 'feedback', accuracy: 0.4 });
    expect(nextBaseline({ source: 'self-test', accuracy: 0.9, feedbackWindows: 0, atMs: 0 }, { source: 'feedback', accuracy: 0.1, atMs: 1 })).toBeUndefined();
  });

  it('ignores a repeat of the same ref and keeps the newest N samples per series', () => {
    const { repo } = openRepo(3);
    expect(repo.addSample(sample({ source: 'self-test', ref: 'rollout:o1' }))).toBeDefined();
    expect(repo.addSample(sample({ source: 'self-test', ref: 'rollout:o1', accuracy: 0.1 }))).toBeUndefined();
    for (let i = 0; i < 5; i++) repo.addSample(sample({ accuracy: i / 10, atMs: 100 + i }));
    const v = repo.deviceQuality('dev-a').get('ver-1')!;
    expect(v.samples.filter((s) => s.source === 'feedback').map((s) => s.at_ms)).toEqual([102, 103, 104]);
    expect(v.samples.filter((s) => s.source === 'self-test')).toHaveLength(1);
    // The baseline outlives the samples it came from.
    expect(v.baseline).toMatchObject({ source: 'self-test', accuracy: 0.9 });
  });
});
