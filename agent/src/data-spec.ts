import { stat } from 'node:fs/promises';
import { loadDiskDataSource, mnistDataSource, type DataSource, type PartitionScheme } from './data/index.js';
import { AgentError } from './errors.js';

const PARTITION = /^(iid|shards|dirichlet:\d+(\.\d+)?)$/;

/**
 * Turns a data spec into a device's local data source:
 * - a folder in the fedfleet sample format (agent/docs/data-format.md);
 * - `mnist:<iid|shards|dirichlet:α>:<i>/<n>` — device i of n's share of the built-in MNIST digits;
 * - `mnist:<partition>` with `index`/`devices` given by the caller (firmware-sim numbers its devices).
 */
export async function dataSourceFromSpec(spec: string, where: { index?: number; devices?: number; seed?: number } = {}): Promise<DataSource> {
  if (spec.startsWith('mnist:')) {
    const rest = spec.slice('mnist:'.length);
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
