import { AgentError } from '../errors.js';
import { DEFAULT_EVAL_BATCH_SIZE } from './evaluate.js';

/** The numeric training options after validation, with defaults filled in. */
export interface NormalizedTrainOptions {
  epochs: number;
  batchSize: number;
  learningRate: number;
  proximalMu: number;
  seed: number;
  maxExamples: number;
  evalBatchSize: number;
  evaluate: boolean;
}

interface RawTrainOptions {
  topologyJson?: unknown;
  weights?: unknown;
  epochs?: unknown;
  batchSize?: unknown;
  learningRate?: unknown;
  proximalMu?: unknown;
  seed?: unknown;
  maxExamples?: unknown;
  evalBatchSize?: unknown;
  evaluate?: unknown;
}

const isPositiveInteger = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 1;

/** Checks every training option once and reports all violations together as `AGENT_ERR_BAD_OPTIONS`. */
export function validateTrainOptions(options: RawTrainOptions): NormalizedTrainOptions {
  const problems: string[] = [];
  if (typeof options.topologyJson !== 'string') problems.push('topologyJson must be a string');
  if (!Array.isArray(options.weights)) problems.push('weights must be an array of weight tensors');
  problems.push(...trainNumberProblems(options));
  if (problems.length > 0) throw new AgentError('AGENT_ERR_BAD_OPTIONS', problems.join('; '));
  return {
    epochs: options.epochs as number,
    batchSize: options.batchSize as number,
    learningRate: options.learningRate as number,
    proximalMu: (options.proximalMu ?? 0) as number,
    seed: (options.seed ?? 0) as number,
    maxExamples: (options.maxExamples ?? Number.POSITIVE_INFINITY) as number,
    evalBatchSize: (options.evalBatchSize ?? DEFAULT_EVAL_BATCH_SIZE) as number,
    evaluate: options.evaluate !== false,
  };
}

/**
 * What is wrong with the numeric options (empty when nothing): the check a train command runs on the task's numbers
 * before it accepts the task, and {@link validateTrainOptions} before training.
 */
export function trainNumberProblems(options: Omit<RawTrainOptions, 'topologyJson' | 'weights'>): string[] {
  const problems: string[] = [];
  if (!isPositiveInteger(options.epochs)) problems.push(`epochs must be an integer ≥ 1, got ${String(options.epochs)}`);
  if (!(isPositiveInteger(options.batchSize) || options.batchSize === Number.POSITIVE_INFINITY)) {
    problems.push(`batchSize must be an integer ≥ 1 or Infinity, got ${String(options.batchSize)}`);
  }
  const lr = options.learningRate;
  if (typeof lr !== 'number' || !Number.isFinite(lr) || lr <= 0) problems.push(`learningRate must be a finite number > 0, got ${String(lr)}`);
  const mu = options.proximalMu ?? 0;
  if (typeof mu !== 'number' || !Number.isFinite(mu) || mu < 0) problems.push(`proximalMu must be a finite number ≥ 0, got ${String(mu)}`);
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed)) problems.push(`seed must be an integer, got ${String(seed)}`);
  const maxExamples = options.maxExamples ?? Number.POSITIVE_INFINITY;
  if (!(isPositiveInteger(maxExamples) || maxExamples === Number.POSITIVE_INFINITY)) {
    problems.push(`maxExamples must be an integer ≥ 1, got ${String(maxExamples)}`);
  }
  const evalBatchSize = options.evalBatchSize ?? DEFAULT_EVAL_BATCH_SIZE;
  if (!isPositiveInteger(evalBatchSize)) problems.push(`evalBatchSize must be an integer ≥ 1, got ${String(evalBatchSize)}`);
  if (options.evaluate !== undefined && typeof options.evaluate !== 'boolean') problems.push('evaluate must be a boolean');
  return problems;
}
