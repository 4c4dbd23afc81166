import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadDiskDataSource, writeDiskDataSource, type Dataset } from '../../src/data/index.js';

function dataset(count: number, seed: number): Dataset {
  const x = Float32Array.from({ length: count * 6 }, (_, i) => ((i * 31 + seed) % 97) / 97);
  const y = Uint8Array.from({ length: count }, (_, i) => (i + seed) % 3);
  return { x, y, count, inputShape: [2, 3], numClasses: 3 };
}

const manifest = (extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ format: 'fedfleet-dataset/1', name: 'sensor', inputShape: [2, 3], numClasses: 3, ...extra });

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fedfleet-data-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function expectCode(code: string, pattern?: RegExp): Promise<void> {
  const error = await loadDiskDataSource(dir).catch((e: unknown) => e);
  expect(error).toMatchObject({ code });
  if (pattern) expect((error as Error).message).toMatch(pattern);
}

describe('on-disk data sets', () => {
  it('round-trips through writeDiskDataSource / loadDiskDataSource', async () => {
    const train = dataset(12, 1);
    const test = dataset(5, 2);
    await writeDiskDataSource(dir, { train, test, name: 'sensor', labelNames: ['a', 'b', 'c'] });
    const source = await loadDiskDataSource(dir);
    expect(source.describe()).toEqual({ name: 'sensor', inputShape: [2, 3], numClasses: 3, trainCount: 12, testCount: 5, labelNames: ['a', 'b', 'c'] });
    expect(source.train()).toEqual(train);
    expect(source.test()).toEqual(test);
  });

  it('stores features as little-endian float32 and labels as bytes', async () => {
    const one: Dataset = { x: Float32Array.from([1, 0, 0, 0, 0, 0.5]), y: Uint8Array.from([2]), count: 1, inputShape: [2, 3], numClasses: 3 };
    await writeDiskDataSource(dir, { train: one, test: one });
    const x = await readFile(join(dir, 'train-x.f32'));
    expect(Array.from(x.subarray(0, 4))).toEqual([0x00, 0x00, 0x80, 0x3f]);
    expect(Array.from(await readFile(join(dir, 'train-y.u8')))).toEqual([2]);
  });

  it('reads CSV splits (header optional, # comments) and holds out a seeded test set when none is given', async () => {
    await writeFile(join(dir, 'dataset.json'), manifest({ holdoutFraction: 0.25 }));
    const rows = Array.from({ length: 8 }, (_, i) => `${i % 3},${[1, 2, 3, 4, 5, 6].map((v) => v / 10 + i).join(',')}`);
    await writeFile(join(dir, 'train.csv'), ['label,f1,f2,f3,f4,f5,f6', '# a comment', ...rows, ''].join('\n'));
    const source = await loadDiskDataSource(dir);
    expect(source.describe()).toMatchObject({ trainCount: 6, testCount: 2 });
    const seen = [...source.train().y, ...source.test().y].sort();
    expect(seen).toEqual([0, 0, 0, 1, 1, 1, 2, 2]);
    const again = await loadDiskDataSource(dir);
    expect(again.test()).toEqual(source.test());
  });

  it('reports a missing folder or manifest as AGENT_ERR_NO_DATA', async () => {
    await expectCode('AGENT_ERR_NO_DATA', /dataset\.json/);
    await writeFile(join(dir, 'dataset.json'), manifest());
    await expectCode('AGENT_ERR_NO_DATA', /no training examples/);
  });

  it('reports every manifest violation at once', async () => {
    await writeFile(join(dir, 'dataset.json'), JSON.stringify({ format: 'x', inputShape: [0], numClasses: 1, labelNames: 'a' }));
    await expectCode('AGENT_ERR_DATA_FORMAT', /format.*inputShape.*numClasses.*labelNames/);
    await writeFile(join(dir, 'dataset.json'), '{oops');
    await expectCode('AGENT_ERR_DATA_FORMAT', /not valid JSON/);
  });

  it('rejects inconsistent binary files with AGENT_ERR_DATA_FORMAT', async () => {
    await writeDiskDataSource(dir, { train: dataset(4, 0), test: dataset(2, 0) });
    await writeFile(join(dir, 'train-x.f32'), new Uint8Array(4 * 6 * 4 + 2));
    await expectCode('AGENT_ERR_DATA_FORMAT', /whole number of examples/);
    await writeFile(join(dir, 'train-x.f32'), new Uint8Array(4 * 6 * 4));
    await writeFile(join(dir, 'train-y.u8'), Uint8Array.from([0, 1, 2]));
    await expectCode('AGENT_ERR_DATA_FORMAT', /3 labels for 4 examples/);
    await writeFile(join(dir, 'train-y.u8'), Uint8Array.from([0, 1, 2, 7]));
    await expectCode('AGENT_ERR_DATA_FORMAT', /label 7/);
    await writeFile(join(dir, 'train-y.u8'), Uint8Array.from([0, 1, 2, 0]));
    await writeFile(join(dir, 'train-x.f32'), new Uint8Array(new Float32Array(24).fill(Number.NaN).buffer));
    await expectCode('AGENT_ERR_DATA_FORMAT', /not finite/);
    await writeFile(join(dir, 'train-x.f32'), new Uint8Array(4 * 6 * 4));
    await rm(join(dir, 'test-y.u8'));
    await expectCode('AGENT_ERR_DATA_FORMAT', /needs both test-x\.f32 and test-y\.u8/);
  });

  it('rejects malformed CSV with the line number', async () => {
    await writeFile(join(dir, 'dataset.json'), manifest());
    await writeFile(join(dir, 'train.csv'), '0,1,2,3,4,5,6\n1,1,2,3\n');
    await expectCode('AGENT_ERR_DATA_FORMAT', /train\.csv:2: 4 fields/);
    await writeFile(join(dir, 'train.csv'), '0,1,2,3,4,5,6\n5,1,2,3,4,5,6\n');
    await expectCode('AGENT_ERR_DATA_FORMAT', /train\.csv:2: label "5"/);
    await writeFile(join(dir, 'train.csv'), '0,1,2,3,4,5,6\n1,1,2,x,4,5,6\n');
    await expectCode('AGENT_ERR_DATA_FORMAT', /train\.csv:2: feature 3/);
  });

  it('refuses a split given both as binary files and as CSV', async () => {
    await writeDiskDataSource(dir, { train: dataset(4, 0), test: dataset(2, 0) });
    await writeFile(join(dir, 'train.csv'), '0,1,2,3,4,5,6\n');
    await expectCode('AGENT_ERR_DATA_FORMAT', /given twice/);
  });

  it('writer validates its input', async () => {
    const bad = { ...dataset(4, 0), count: 5 };
    await expect(writeDiskDataSource(dir, { train: bad, test: dataset(1, 0) })).rejects.toMatchObject({ code: 'AGENT_ERR_DATA_FORMAT' });
    await expect(writeDiskDataSource(dir, { train: dataset(2, 0), test: dataset(1, 0), labelNames: ['a'] })).rejects.toMatchObject({
      code: 'AGENT_ERR_DATA_FORMAT',
    });
  });
});
