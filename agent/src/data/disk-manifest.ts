import { AgentError } from '../errors.js';

/**
 * `dataset.json`, the manifest of a device's on-disk data set (documented in `agent/docs/data-format.md`).
 * Counts are not stored: they follow from the file sizes, so a manifest never disagrees with its files.
 */
export interface DiskManifest {
  /** Always {@link DISK_FORMAT}. */
  format: typeof DISK_FORMAT;
  /** Display name of the data set. */
  name: string;
  /** Shape of one example, positive integers, e.g. `[28, 28, 1]`. */
  inputShape: number[];
  /** Number of classes, 2..256 (labels are one byte). */
  numClasses: number;
  /** Optional class names, index = label; length = numClasses. */
  labelNames?: string[];
  /**
   * Fraction of the training examples held out as the test set when no test files exist, in (0, 1).
   * Default 0.2. The held-out examples are chosen with {@link holdoutSeed}.
   */
  holdoutFraction?: number;
  /** Seed of the hold-out split. Default 0. */
  holdoutSeed?: number;
}

export const DISK_FORMAT = 'fedfleet-dataset/1';
export const MANIFEST_FILE = 'dataset.json';
export const DEFAULT_HOLDOUT_FRACTION = 0.2;

/** File names of one split (`train` or `test`). */
export function splitFiles(split: 'train' | 'test'): { x: string; y: string; csv: string } {
  return { x: `${split}-x.f32`, y: `${split}-y.u8`, csv: `${split}.csv` };
}

/** Validates a parsed `dataset.json`; reports every violation at once as `AGENT_ERR_DATA_FORMAT`. */
export function parseManifest(raw: unknown, where: string): DiskManifest {
  const problems: string[] = [];
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new AgentError('AGENT_ERR_DATA_FORMAT', `${where}: must be a JSON object`);
  }
  const m = raw as Record<string, unknown>;
  if (m.format !== DISK_FORMAT) problems.push(`format must be "${DISK_FORMAT}", got ${JSON.stringify(m.format)}`);
  if (m.name !== undefined && typeof m.name !== 'string') problems.push('name must be a string');
  const shapeOk =
    Array.isArray(m.inputShape) &&
    m.inputShape.length > 0 &&
    m.inputShape.every((d) => Number.isInteger(d) && (d as number) > 0);
  if (!shapeOk) problems.push(`inputShape must be a non-empty array of positive integers, got ${JSON.stringify(m.inputShape)}`);
  const classesOk = Number.isInteger(m.numClasses) && (m.numClasses as number) >= 2 && (m.numClasses as number) <= 256;
  if (!classesOk) problems.push(`numClasses must be an integer in [2, 256], got ${JSON.stringify(m.numClasses)}`);
  if (m.labelNames !== undefined) {
    const ok = Array.isArray(m.labelNames) && m.labelNames.every((n) => typeof n === 'string');
    if (!ok) problems.push('labelNames must be an array of strings');
    else if (classesOk && (m.labelNames as string[]).length !== m.numClasses) {
      problems.push(`labelNames has ${(m.labelNames as string[]).length} entries, numClasses is ${m.numClasses}`);
    }
  }
  if (m.holdoutFraction !== undefined) {
    const f = m.holdoutFraction;
    if (typeof f !== 'number' || !(f > 0 && f < 1)) problems.push('holdoutFraction must be a number in (0, 1)');
  }
  if (m.holdoutSeed !== undefined && !Number.isInteger(m.holdoutSeed)) problems.push('holdoutSeed must be an integer');
  if (problems.length > 0) throw new AgentError('AGENT_ERR_DATA_FORMAT', `${where}: ${problems.join('; ')}`);
  return {
    format: DISK_FORMAT,
    name: typeof m.name === 'string' ? m.name : 'local',
    inputShape: [...(m.inputShape as number[])],
    numClasses: m.numClasses as number,
    ...(m.labelNames !== undefined ? { labelNames: [...(m.labelNames as string[])] } : {}),
    ...(m.holdoutFraction !== undefined ? { holdoutFraction: m.holdoutFraction as number } : {}),
    ...(m.holdoutSeed !== undefined ? { holdoutSeed: m.holdoutSeed as number } : {}),
  };
}
