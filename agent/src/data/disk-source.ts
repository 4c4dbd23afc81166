import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeFloat32Le, shapeSize } from '@fedfleet/proto';
import { parseLabelledCsv } from './csv.js';
import { memoryDataSource, subsetDataset, validateDataset, type DataSource, type Dataset } from './dataset.js';
import { DEFAULT_HOLDOUT_FRACTION, MANIFEST_FILE, parseManifest, splitFiles, type DiskManifest } from './disk-manifest.js';
import { AgentError } from '../errors.js';
import { mulberry32, permutation } from './rng.js';

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function readBinarySplit(dir: string, split: 'train' | 'test', manifest: DiskManifest): Promise<Dataset> {
  const files = splitFiles(split);
  const featureCount = shapeSize(manifest.inputShape);
  const xBytes = await readFile(join(dir, files.x));
  const yBytes = await readFile(join(dir, files.y));
  if (xBytes.byteLength % (4 * featureCount) !== 0) {
    throw new AgentError(
      'AGENT_ERR_DATA_FORMAT',
      `${files.x}: ${xBytes.byteLength} bytes is not a whole number of examples of ${featureCount} float32 values (${4 * featureCount} bytes)`,
    );
  }
  const count = xBytes.byteLength / (4 * featureCount);
  if (yBytes.byteLength !== count) {
    throw new AgentError('AGENT_ERR_DATA_FORMAT', `${files.y}: ${yBytes.byteLength} labels for ${count} examples in ${files.x}`);
  }
  const data: Dataset = {
    x: decodeFloat32Le(xBytes),
    y: new Uint8Array(yBytes),
    count,
    inputShape: [...manifest.inputShape],
    numClasses: manifest.numClasses,
  };
  validateDataset(data, `${split} split`);
  return data;
}

async function readSplit(dir: string, split: 'train' | 'test', manifest: DiskManifest): Promise<Dataset | undefined> {
  const files = splitFiles(split);
  const [hasX, hasY, hasCsv] = await Promise.all([files.x, files.y, files.csv].map((f) => exists(join(dir, f))));
  if (hasX || hasY) {
    if (!hasX || !hasY) {
      throw new AgentError('AGENT_ERR_DATA_FORMAT', `${split} split needs both ${files.x} and ${files.y}, found only ${hasX ? files.x : files.y}`);
    }
    if (hasCsv) throw new AgentError('AGENT_ERR_DATA_FORMAT', `${split} split is given twice: binary files and ${files.csv}`);
    return readBinarySplit(dir, split, manifest);
  }
  if (!hasCsv) return undefined;
  const text = await readFile(join(dir, files.csv), 'utf8');
  const parsed = parseLabelledCsv(text, shapeSize(manifest.inputShape), manifest.numClasses, files.csv);
  const data: Dataset = { ...parsed, inputShape: [...manifest.inputShape], numClasses: manifest.numClasses };
  validateDataset(data, `${split} split`);
  return data;
}

/**
 * Loads and validates a device's data set folder (format: `agent/docs/data-format.md`). Everything is read and
 * checked up front, so a malformed folder fails here with `AGENT_ERR_DATA_FORMAT` (or `AGENT_ERR_NO_DATA` when
 * the folder or its manifest is missing), never in the middle of a training round.
 */
export async function loadDiskDataSource(dir: string): Promise<DataSource> {
  const manifestPath = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(manifestPath, 'utf8');
  } catch (error) {
    throw new AgentError('AGENT_ERR_NO_DATA', `cannot read ${manifestPath}`, { cause: error });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new AgentError('AGENT_ERR_DATA_FORMAT', `${MANIFEST_FILE} is not valid JSON`, { cause: error });
  }
  const manifest = parseManifest(raw, MANIFEST_FILE);
  const train = await readSplit(dir, 'train', manifest);
  if (!train || train.count === 0) {
    throw new AgentError('AGENT_ERR_NO_DATA', `${dir} has no training examples (train-x.f32 + train-y.u8, or train.csv)`);
  }
  let test = await readSplit(dir, 'test', manifest);
  let trainSet = train;
  if (!test) {
    // No test files: hold out a seeded fraction of the training examples for federated evaluation.
    const fraction = manifest.holdoutFraction ?? DEFAULT_HOLDOUT_FRACTION;
    const order = permutation(train.count, mulberry32(manifest.holdoutSeed ?? 0));
    const testCount = train.count > 1 ? Math.min(train.count - 1, Math.max(1, Math.round(train.count * fraction))) : 0;
    test = subsetDataset(train, order.subarray(0, testCount));
    trainSet = subsetDataset(train, order.subarray(testCount));
  }
  return memoryDataSource(manifest.name, trainSet, test, manifest.labelNames);
}
