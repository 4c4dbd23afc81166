import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeFloat32Le } from '@fedfleet/proto';
import { validateDataset, type Dataset } from './dataset.js';
import { DISK_FORMAT, MANIFEST_FILE, parseManifest, splitFiles, type DiskManifest } from './disk-manifest.js';
import { AgentError } from '../errors.js';

export interface WriteDiskDataOptions {
  /** Training examples. */
  train: Dataset;
  /** Held-out examples; same inputShape and numClasses as `train`. */
  test: Dataset;
  /** Display name. Default `local`. */
  name?: string;
  /** Class names, index = label. */
  labelNames?: string[];
}

async function writeAtomically(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

/**
 * Writes a data set folder in the binary form of `agent/docs/data-format.md` (creating `dir`). The manifest is
 * written last, so a reader never sees a manifest whose files are incomplete.
 */
export async function writeDiskDataSource(dir: string, options: WriteDiskDataOptions): Promise<void> {
  const { train, test } = options;
  validateDataset(train, 'train split');
  validateDataset(test, 'test split');
  if (train.numClasses !== test.numClasses || train.inputShape.join() !== test.inputShape.join()) {
    throw new AgentError('AGENT_ERR_DATA_FORMAT', 'train and test splits differ in inputShape or numClasses');
  }
  const manifest: DiskManifest = parseManifest(
    {
      format: DISK_FORMAT,
      name: options.name ?? 'local',
      inputShape: [...train.inputShape],
      numClasses: train.numClasses,
      ...(options.labelNames ? { labelNames: [...options.labelNames] } : {}),
    },
    'writeDiskDataSource options',
  );
  await mkdir(dir, { recursive: true });
  for (const [split, data] of [['train', train], ['test', test]] as const) {
    const files = splitFiles(split);
    await writeAtomically(join(dir, files.x), encodeFloat32Le(data.x));
    await writeAtomically(join(dir, files.y), data.y);
  }
  await writeAtomically(join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
}
