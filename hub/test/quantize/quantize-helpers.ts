/**
 * Helpers of the quantization tests: a two-layer TensorFlow.js model small enough to reason about (dense 4 → 8 ReLU →
 * 3 softmax), seeded example partitions, and raw MQTT devices that answer a CalibrateTask with exactly the
 * CalibrationReport a test wants — computed from their partition with proto's own statistics code, or tampered with.
 */
import * as tf from '@tensorflow/tfjs';
import {
  calibrationStatsToWire, collectCalibrationStats, floatModelFromTopology, mulberry32,
  type CalibrateTaskProps, type CalibrationReportProps, type FloatModel,
} from '@fedfleet/proto';
import type { Hub } from '../../src/build-hub.js';
import type { QuantizationDetailJson } from '../../src/quantize/schemas.js';
import { saveTfjsModel, waitFor, type Api, type RawDevice } from '../rounds/round-helpers.js';

export interface CalibrateTaskSeen extends CalibrateTaskProps {
  commandId: string;
}

/** Imports dense(8, relu) → dense(3, softmax) on 4 inputs as `name`; returns its model and version ids. */
export async function importTwoLayerModel(api: Api, name = 'two-layer'): Promise<{ modelId: string; versionId: string }> {
  const model = tf.sequential({
    layers: [tf.layers.dense({ units: 8, inputShape: [4], activation: 'relu' }), tf.layers.dense({ units: 3, activation: 'softmax' })],
  });
  const random = mulberry32(7);
  const weights = model.getWeights().map((w) => tf.tensor(Float32Array.from({ length: w.size }, () => random() * 2 - 1), w.shape));
  model.setWeights(weights);
  tf.dispose(weights);
  const { modelJson, weights: bytes } = await saveTfjsModel(model);
  model.dispose();
  const response = await api<{ model: { id: string }; version: { id: string } }>('POST', '/v1/models/import', {
    name, modelJson, weightsBase64: Buffer.from(bytes).toString('base64'),
  });
  if (response.status !== 201) throw new Error(`import failed: ${response.status} ${JSON.stringify(response.body)}`);
  return { modelId: response.body.model.id, versionId: response.body.version.id };
}

/** The float model of a stored version, as the hub's int8 path reads it. */
export async function floatModelOf(hub: Hub, versionId: string): Promise<FloatModel> {
  const content = await hub.models.loadContent(versionId);
  return floatModelFromTopology(content.topologyJson, content.weights);
}

/** `count` examples of 4 values uniform in [offset, offset + spread), seeded. */
export function partition(seed: number, count: number, offset: number, spread: number): Float32Array[] {
  const random = mulberry32(seed);
  return Array.from({ length: count }, () => Float32Array.from({ length: 4 }, () => offset + spread * random()));
}

/** The calibrate task a device received (the first one, or the one of `jobId`). */
export async function calibrateTask(device: RawDevice, jobId?: string): Promise<CalibrateTaskSeen> {
  const command = await waitFor(
    () => device.commands.find((c) => c.calibrate && (!jobId || c.calibrate.jobId === jobId)), 5000, `calibrate task for ${device.creds.name}`,
  );
  return { ...command.calibrate!, commandId: command.commandId! };
}

/** The CalibrationReport a device computes on `examples` for `task` (fields overridable). */
export function reportOf(
  model: FloatModel, task: CalibrateTaskSeen, examples: Iterable<Float32Array>, overrides: Partial<CalibrationReportProps> = {},
): CalibrationReportProps {
  const stats = collectCalibrationStats(model, examples, { bins: task.histogramBins ?? 0 });
  return {
    jobId: task.jobId, commandId: task.commandId, versionId: task.model?.versionId ?? '', exampleCount: stats.exampleCount,
    tensors: calibrationStatsToWire(stats), ...overrides,
  };
}

export async function sendReport(device: RawDevice, report: CalibrationReportProps): Promise<void> {
  await device.publish('reply', { calibrationReport: report });
}

/** The device ends its calibrate command without a report (refused, failed, …). */
export async function sendResult(device: RawDevice, task: CalibrateTaskSeen, code: number, errorCode = ''): Promise<void> {
  await device.reply(task.commandId, code, { errorCode, reason: 'test' });
}

export async function getQuantization(api: Api, id: string): Promise<QuantizationDetailJson> {
  const response = await api<QuantizationDetailJson>('GET', `/v1/quantizations/${id}`);
  if (response.status !== 200) throw new Error(`GET /v1/quantizations/${id}: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}

/**
 * Starts a job. Raw MQTT devices answer no EvalTask, so the built int8 file is not evaluated on the fleet unless the
 * body says `evaluate` (fleet-evaluation.test.ts does, with devices that answer).
 */
export async function startQuantization(api: Api, model: string, version: string | number, body: Record<string, unknown>): Promise<QuantizationDetailJson> {
  const response = await api<QuantizationDetailJson>('POST', `/v1/models/${model}/versions/${version}/quantizations`, { evaluate: false, ...body });
  if (response.status !== 202) throw new Error(`POST quantizations: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}

/** Polls the job until it finished (done or failed). */
export async function finished(api: Api, id: string, timeoutMs = 5000): Promise<QuantizationDetailJson> {
  let last: QuantizationDetailJson | undefined;
  try {
    return await waitFor(async () => {
      last = await getQuantization(api, id);
      return last.state === 'done' || last.state === 'failed' ? last : undefined;
    }, timeoutMs, `quantization ${id} to finish`);
  } catch (error) {
    throw new Error(`${(error as Error).message}; it stood at ${JSON.stringify(last)}`);
  }
}
