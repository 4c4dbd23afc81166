/**
 * The work folder verify:tflite hands to tflite_check.py: manifest.json names every file, all raw little-endian
 * arrays (float32 `.f32`, int8 `.i8`, uint8 `.u8`) plus the `.tflite` files themselves.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeFloat32Le, type FloatLayer, type FloatModel } from '@fedfleet/proto';
import type { Dataset } from '@fedfleet/agent/ml';

/** A float layer as the Python side rebuilds it in Keras (TensorFlow.js and Keras share kernel layouts). */
export type ManifestLayer = FloatLayer extends infer L
  ? L extends FloatLayer ? Omit<L, 'kernel' | 'bias'> & { kernelFile?: string; kernelShape?: number[]; biasFile?: string } : never
  : never;

export interface ManifestModel {
  id: string;
  inputShape: number[];
  /** Our int8 .tflite (encodeTfliteInt8). */
  int8File: string;
  /** Our float .tflite (encodeTfliteFloat). */
  floatFile: string;
  /** count × input size int8 codes our interpreter was fed. */
  ourInt8Inputs: string;
  /** count × classes int8 logits of our integer-only kernels on the graph decoded from int8File. */
  ourInt8Logits: string;
  /** count × classes float32 logits of our float forward pass. */
  ourFloatLogits: string;
  layers: ManifestLayer[];
}

export interface Manifest {
  testDigits: { file: string; labels: string; count: number };
  /** The digits calibration ran on, for TensorFlow's converter's representative dataset. */
  calibrationDigits: { file: string; count: number };
  models: ManifestModel[];
}

export interface ModelOutputs {
  id: string;
  floatModel: FloatModel;
  int8Inputs: Int8Array;
  int8Logits: Int8Array;
  floatLogits: Float32Array;
}

const bytesOf = (a: Int8Array | Uint8Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** Writes a model's two .tflite files; returns their paths and manifest names. */
export function writeTfliteFiles(dir: string, id: string, int8Tflite: Uint8Array, floatTflite: Uint8Array) {
  const names = { int8File: `${id}-int8.tflite`, floatFile: `${id}-float.tflite` };
  writeFileSync(join(dir, names.int8File), int8Tflite);
  writeFileSync(join(dir, names.floatFile), floatTflite);
  return { names, int8Path: join(dir, names.int8File) };
}

/** Writes the float weights, one file per kernel and bias, and returns the layer list of the manifest. */
function writeLayers(dir: string, id: string, model: FloatModel): ManifestLayer[] {
  return model.layers.map((layer) => {
    if (layer.kind !== 'dense' && layer.kind !== 'conv2d') return { ...layer };
    const { kernel, bias, ...rest } = layer;
    const kernelFile = `${id}-${layer.name}-kernel.f32`;
    const biasFile = `${id}-${layer.name}-bias.f32`;
    writeFileSync(join(dir, kernelFile), encodeFloat32Le(kernel));
    writeFileSync(join(dir, biasFile), encodeFloat32Le(bias));
    const kernelShape = layer.kind === 'dense'
      ? [kernel.length / layer.units, layer.units]
      : [layer.kernelH, layer.kernelW, kernel.length / (layer.kernelH * layer.kernelW * layer.filters), layer.filters];
    return { ...rest, kernelFile, kernelShape, biasFile };
  });
}

/** Writes our outputs and the float weights next to the .tflite files; returns the model's manifest entry. */
export function writeModelFiles(dir: string, m: ModelOutputs, tflite: Pick<ManifestModel, 'int8File' | 'floatFile'>): ManifestModel {
  const files = {
    ourInt8Inputs: `${m.id}-our-int8-inputs.i8`,
    ourInt8Logits: `${m.id}-our-int8-logits.i8`,
    ourFloatLogits: `${m.id}-our-float-logits.f32`,
  };
  writeFileSync(join(dir, files.ourInt8Inputs), bytesOf(m.int8Inputs));
  writeFileSync(join(dir, files.ourInt8Logits), bytesOf(m.int8Logits));
  writeFileSync(join(dir, files.ourFloatLogits), encodeFloat32Le(m.floatLogits));
  return { id: m.id, inputShape: [...m.floatModel.inputShape], ...tflite, ...files, layers: writeLayers(dir, m.id, m.floatModel) };
}

export function writeDigits(dir: string, test: Dataset, calibration: Dataset): Omit<Manifest, 'models'> {
  writeFileSync(join(dir, 'test-x.f32'), encodeFloat32Le(test.x));
  writeFileSync(join(dir, 'test-y.u8'), test.y);
  writeFileSync(join(dir, 'calibration-x.f32'), encodeFloat32Le(calibration.x));
  return {
    testDigits: { file: 'test-x.f32', labels: 'test-y.u8', count: test.count },
    calibrationDigits: { file: 'calibration-x.f32', count: calibration.count },
  };
}

export function writeManifest(dir: string, manifest: Manifest): void {
  writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
}
