import { stat } from 'node:fs/promises';
import {
  MNIST_CLASSES, loadDiskDataSource, memoryDataSource, mnistDataSource, mnistGlobal, subsetDataset, type DataSource, type Dataset,
  type PartitionScheme,
} from './data/index.js';
import { AgentError } from './errors.js';

const PARTITION = /^(iid|shards|dirichlet:\d+(\.\d+)?)$/;
const LABELS = /^labels:(\d+(,\d+)*)$/;

/**
 * Turns a data spec into a device's local data source:
 * - a folder in the fedfleet sample format (agent/docs/data-format.md);
 * - `mnist:<iid|shards|dirichlet:α>:<i>/<n>` — device i of n's share of the built-in MNIST digits;
 * - `mnist:<partition>` with `index`/`devices` given by the caller (firmware-sim numbers its devices);
 * - `mnist:labels:<d>,<d>,…` — every training and test digit with those labels and no other, the same on every device
 *   that uses it (not partitioned): a device whose local data a model trained without those digits classifies badly
 *   (firmware-sim's `dataFor`, the rollout benchmark's fault run).
 */
export async function dataSourceFromSpec(spec: string, where: { index?: number; devices?: number; seed?: number } = {}): Promise<DataSource> {
  if (spec.startsWith('mnist:')) {
    const rest = spec.slice('mnist:'.length);
    if (rest.startsWith('labels:')) return mnistLabelsSource(rest);
    const slash = /^(.*):(\d+)\/(\d+)$/.exec(rest);
    const partition = slash ? slash[1]! : rest;
    const index = slash ? Number(slash[2]) : where.index;
    const devices = slash ? Number(slash[3]) : where.devices;
    if (!PARTITION.test(partition)) throw new AgentError('AGENT_ERR_CONFIG', `unknown MNIST partition "${partition}" (iid, shards, dirichlet:<alpha>)`);
    if (index === undefined || devices === undefined) throw new AgentError('AGENT_ERR_CONFIG', `"${spec}" needs :<index>/<devices>`);
    return mnistDataSource({ devices, index, partition: partition as PartitionScheme, seed: where.seed ?? 0 });
  }
  const info = await stat(spec).catch(() => undefined);
  if (!info?.isDirectory()) throw new AgentError('AGENT_ERR_CONFIG', `data "${spec}" is neither mnist:… nor a folder`);
  return loadDiskDataSource(spec);
}

/** `labels:7,8,9` as sorted distinct digits; throws AGENT_ERR_CONFIG for anything else. */
function parseLabelList(rest: string): number[] {
  const match = LABELS.exec(rest);
  const labels = match ? [...new Set(match[1]!.split(',').map(Number))].sort((a, b) => a - b) : [];
  if (labels.length === 0 || labels.some((label) => label >= MNIST_CLASSES)) {
    throw new AgentError('AGENT_ERR_CONFIG', `"mnist:${rest}" is not mnist:labels:<digit>,<digit>,… with digits 0–${MNIST_CLASSES - 1}`);
  }
  return labels;
}

/** One copy per label set per process: many simulated devices may hold the same digits. */
const labelSources = new Map<string, DataSource>();

function mnistLabelsSource(rest: string): DataSource {
  const labels = parseLabelList(rest);
  const key = labels.join(',');
  let source = labelSources.get(key);
  if (!source) {
    const global = mnistGlobal();
    const only = (data: Dataset): Dataset => {
      const ids: number[] = [];
      for (let i = 0; i < data.count; i++) if (labels.includes(data.y[i]!)) ids.push(i);
      return subsetDataset(data, ids);
    };
    source = memoryDataSource(`mnist labels ${key}`, only(global.train), only(global.test));
    labelSources.set(key, source);
  }
  return source;
}
