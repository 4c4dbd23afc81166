import { AgentError } from '../errors.js';
import { dirichletSample, mixSeed, mulberry32, permutation, shuffleInPlace } from './rng.js';

/**
 * How a data set is split across the devices of a simulated fleet:
 * - `iid`: a seeded shuffle cut into equal slices;
 * - `dirichlet:α`: for each class, the proportions going to each device are drawn from Dirichlet(α) over the
 *   devices (small α → few devices per class, very non-IID; large α → close to IID);
 * - `shards`: the FedAvg paper's pathological non-IID split (McMahan et al. 2017, §3): sort by label, cut into
 *   2·N shards, give each device 2 random shards.
 */
export type PartitionScheme = 'iid' | 'shards' | `dirichlet:${number}`;

export type ParsedPartition = { kind: 'iid' } | { kind: 'shards' } | { kind: 'dirichlet'; alpha: number };

export function parsePartition(scheme: string): ParsedPartition {
  if (scheme === 'iid') return { kind: 'iid' };
  if (scheme === 'shards') return { kind: 'shards' };
  const match = /^dirichlet:(.+)$/.exec(scheme);
  if (match) {
    const alpha = Number(match[1]);
    if (Number.isFinite(alpha) && alpha > 0) return { kind: 'dirichlet', alpha };
  }
  throw new AgentError('AGENT_ERR_BAD_OPTIONS', `partition ${JSON.stringify(scheme)} is not iid, shards or dirichlet:<alpha > 0>`);
}

function indicesByClass(labels: Uint8Array, numClasses: number, random: () => number): Uint32Array[] {
  const counts = new Uint32Array(numClasses);
  for (let i = 0; i < labels.length; i++) counts[labels[i]!]!++;
  const out = Array.from(counts, (n) => new Uint32Array(n));
  const fill = new Uint32Array(numClasses);
  for (let i = 0; i < labels.length; i++) out[labels[i]!]![fill[labels[i]!]!++] = i;
  for (const ids of out) shuffleInPlace(ids, random);
  return out;
}

/** Equal slices (sizes differ by at most one) of a seeded permutation of `count` examples. */
export function partitionIid(count: number, devices: number, random: () => number): Uint32Array[] {
  const order = permutation(count, random);
  const parts: Uint32Array[] = [];
  for (let d = 0; d < devices; d++) {
    parts.push(order.slice(Math.floor((d * count) / devices), Math.floor(((d + 1) * count) / devices)));
  }
  return parts;
}

/**
 * Splits every class among the devices by `proportions[class][device]` (rows sum to 1), rounding with the
 * largest-remainder method so class totals are exact; then gives every empty device one example of the class it
 * is most entitled to, taken from the device holding most of that class.
 */
export function partitionByProportions(
  labels: Uint8Array,
  numClasses: number,
  proportions: readonly Float64Array[],
  random: () => number,
): Uint32Array[] {
  const devices = proportions[0]?.length ?? 0;
  const byClass = indicesByClass(labels, numClasses, random);
  // assigned[device][class] = list of example indices
  const assigned: number[][][] = Array.from({ length: devices }, () => Array.from({ length: numClasses }, () => []));
  for (let c = 0; c < numClasses; c++) {
    const ids = byClass[c]!;
    const p = proportions[c]!;
    const quota = new Uint32Array(devices);
    const remainders: { d: number; r: number }[] = [];
    let given = 0;
    for (let d = 0; d < devices; d++) {
      const exact = ids.length * p[d]!;
      quota[d] = Math.floor(exact);
      given += quota[d]!;
      remainders.push({ d, r: exact - quota[d]! });
    }
    remainders.sort((a, b) => b.r - a.r || a.d - b.d);
    for (let k = 0; given < ids.length; k++, given++) quota[remainders[k % devices]!.d]!++;
    let at = 0;
    for (let d = 0; d < devices; d++) {
      for (let q = 0; q < quota[d]!; q++) assigned[d]![c]!.push(ids[at++]!);
    }
  }
  for (let d = 0; d < devices; d++) {
    if (assigned[d]!.some((ids) => ids.length > 0)) continue;
    const classOrder = Array.from({ length: numClasses }, (_, c) => c).sort(
      (a, b) => proportions[b]![d]! - proportions[a]![d]! || a - b,
    );
    for (const c of classOrder) {
      let donor = -1;
      for (let e = 0; e < devices; e++) {
        const total = assigned[e]!.reduce((s, ids) => s + ids.length, 0);
        if (total >= 2 && assigned[e]![c]!.length > 0 && (donor < 0 || assigned[e]![c]!.length > assigned[donor]![c]!.length)) {
          donor = e;
        }
      }
      if (donor >= 0) {
        assigned[d]![c]!.push(assigned[donor]![c]!.pop()!);
        break;
      }
    }
  }
  return assigned.map((perClass) => {
    const flat = Uint32Array.from(perClass.flat());
    return shuffleInPlace(flat, random);
  });
}

/** Dirichlet(α) proportions over `devices` for each class: `[class][device]`. */
export function dirichletProportions(numClasses: number, devices: number, alpha: number, random: () => number): Float64Array[] {
  return Array.from({ length: numClasses }, () => dirichletSample(random, alpha, devices));
}

/** The FedAvg paper's shards: sort by label, cut into `shardsPerDevice·devices` shards, deal them out at random. */
export function partitionShards(labels: Uint8Array, devices: number, random: () => number, shardsPerDevice = 2): Uint32Array[] {
  const shardCount = devices * shardsPerDevice;
  if (labels.length < shardCount) {
    throw new AgentError('AGENT_ERR_BAD_OPTIONS', `${labels.length} examples cannot be cut into ${shardCount} shards`);
  }
  // Sort by label; a seeded permutation first makes the order inside each class random but reproducible.
  const order = Array.from(permutation(labels.length, random));
  order.sort((a, b) => labels[a]! - labels[b]!);
  const shardIds = permutation(shardCount, random);
  const parts: Uint32Array[] = [];
  for (let d = 0; d < devices; d++) {
    const ids: number[] = [];
    for (let k = 0; k < shardsPerDevice; k++) {
      const shard = shardIds[d * shardsPerDevice + k]!;
      const from = Math.floor((shard * labels.length) / shardCount);
      const to = Math.floor(((shard + 1) * labels.length) / shardCount);
      for (let i = from; i < to; i++) ids.push(order[i]!);
    }
    parts.push(Uint32Array.from(ids));
  }
  return parts;
}

/** `[class][device]` share of each class held by each device in a partition. */
export function classShares(labels: Uint8Array, numClasses: number, parts: readonly Uint32Array[]): Float64Array[] {
  const shares = Array.from({ length: numClasses }, () => new Float64Array(parts.length));
  const totals = new Float64Array(numClasses);
  parts.forEach((ids, d) => {
    for (let i = 0; i < ids.length; i++) {
      shares[labels[ids[i]!]!]![d]!++;
      totals[labels[ids[i]!]!]!++;
    }
  });
  for (let c = 0; c < numClasses; c++) {
    const row = shares[c]!;
    if (totals[c]! > 0) for (let d = 0; d < row.length; d++) row[d]! /= totals[c]!;
    else row.fill(1 / row.length);
  }
  return shares;
}

/**
 * Partitions a train and a test set across `devices` with one scheme. For `iid` both are cut independently; for
 * the non-IID schemes the test examples of each class go to devices in proportion to how much of that class each
 * device holds in training, so a device's held-out data follows its own label distribution.
 */
export function partitionTrainTest(
  trainLabels: Uint8Array,
  testLabels: Uint8Array,
  numClasses: number,
  devices: number,
  scheme: PartitionScheme,
  seed: number,
): { train: Uint32Array[]; test: Uint32Array[] } {
  if (!Number.isInteger(devices) || devices < 1) throw new AgentError('AGENT_ERR_BAD_OPTIONS', `devices must be a positive integer, got ${devices}`);
  if (trainLabels.length < devices || testLabels.length < devices) {
    throw new AgentError('AGENT_ERR_BAD_OPTIONS', `cannot give each of ${devices} devices at least one train and one test example`);
  }
  const parsed = parsePartition(scheme);
  const trainRandom = mulberry32(mixSeed(seed, 1));
  const testRandom = mulberry32(mixSeed(seed, 2));
  if (parsed.kind === 'iid') {
    return { train: partitionIid(trainLabels.length, devices, trainRandom), test: partitionIid(testLabels.length, devices, testRandom) };
  }
  const train =
    parsed.kind === 'shards'
      ? partitionShards(trainLabels, devices, trainRandom)
      : partitionByProportions(trainLabels, numClasses, dirichletProportions(numClasses, devices, parsed.alpha, trainRandom), trainRandom);
  const test = partitionByProportions(testLabels, numClasses, classShares(trainLabels, numClasses, train), testRandom);
  return { train, test };
}
