/**
 * bench:rollout's model on the hub: v1 imported through `POST /v1/models/import`, v2 and v3 registered as its next
 * versions through the hub's model registry (the HTTP API adds versions only through committed rounds; the bench
 * registers them as a round's commit would, each with the previous one as parent), then each quantized to int8 with
 * data-set calibration (`POST /v1/datasets`, `POST …/quantizations` with `calibrate: dataset:<name>`) so a `tflite`
 * bundle exists for every version: the microcontrollers serve only int8, and the Raspberry Pis serve it too.
 */
import { decodeTfliteInt8, encodeFloat32Le, type Int8Graph } from '@fedfleet/proto';
import { mnistGlobal, subsetDataset } from '@fedfleet/agent/ml';
import type { QuantizationDetailJson } from '../../hub/src/quantize/schemas.js';
import type { BenchOutput } from './bench-output.js';
import type { BenchHub } from './rollout-fleet.js';
import { tfjsModelFiles, type RolloutVersion } from './rollout-models.js';

export const MODEL_NAME = 'bench-rollout-2nn';
/** Calibration set: the first 1,000 of the 8,000 training digits. */
const CALIBRATION_EXAMPLES = 1000;
const CALIBRATION_SET = 'bench-rollout-calibration';

export interface RegisteredVersion {
  label: RolloutVersion['label'];
  /** Registry version number (1, 2, 3). */
  version: number;
  versionId: string;
  /** The int8 graph of the `.tflite` the hub bundles for this version. */
  int8: Int8Graph;
  int8Bytes: number;
}

async function quantize(bench: BenchHub, modelId: string, version: number, out: BenchOutput): Promise<void> {
  const { api } = bench;
  const job = await api.request<QuantizationDetailJson>('POST', `/v1/models/${modelId}/versions/${version}/quantizations`, {
    calibrate: `dataset:${CALIBRATION_SET}`, evaluate: false,
  });
  for (let detail = job; ; detail = await api.request<QuantizationDetailJson>('GET', `/v1/quantizations/${job.id}`)) {
    if (detail.state === 'done') return;
    if (detail.state === 'failed') throw new Error(`quantization of version ${version} failed: ${detail.errorCode} ${detail.error}`);
    out.progress(`quantizing version ${version}`, 0, 1);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export async function registerVersions(bench: BenchHub, versions: readonly RolloutVersion[], out: BenchOutput): Promise<{ modelId: string; registered: RegisteredVersion[] }> {
  const { api, hub } = bench;
  const [first, ...rest] = versions;
  const created = await api.request<{ model: { id: string }; version: { id: string } }>('POST', '/v1/models/import', {
    name: MODEL_NAME, description: `bench:rollout ${first!.label} (${first!.description})`, ...tfjsModelFiles(first!),
  });
  const modelId = created.model.id;
  const ids = [created.version.id];
  for (const v of rest) {
    const added = await hub.models.addRoundVersion({
      modelId, parentVersionId: ids.at(-1)!, weights: v.weights, metrics: { bench: `rollout ${v.label}`, accuracy: v.floatAccuracy },
    });
    ids.push(added!.id);
  }

  const calibration = subsetDataset(mnistGlobal().train, Array.from({ length: CALIBRATION_EXAMPLES }, (_, i) => i));
  await api.request('POST', '/v1/datasets', {
    name: CALIBRATION_SET, inputShape: [784], numClasses: 10,
    xBase64: Buffer.from(encodeFloat32Le(calibration.x)).toString('base64'), yBase64: Buffer.from(calibration.y).toString('base64'),
  });
  const registered: RegisteredVersion[] = [];
  for (const [i, v] of versions.entries()) {
    const version = i + 1;
    await quantize(bench, modelId, version, out);
    const tflite = await api.bytes(`/v1/models/${modelId}/versions/${version}/artifact?format=tflite&encoding=int8`);
    registered.push({ label: v.label, version, versionId: ids[i]!, int8: decodeTfliteInt8(tflite), int8Bytes: tflite.length });
  }
  out.endProgress();
  return { modelId, registered };
}
