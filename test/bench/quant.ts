/**
 * `npm run bench:quant` (issue 9 acceptance): each built-in model, trained centrally on the MNIST split
 * (quant-models.ts), as float, fp16 and int8 — bytes, accuracy on the 2,000 test digits, and what the int8 model
 * needs on a Cortex-M4 (proto/src/mcu). Anchor: the TensorFlow Lite int8 spec
 * (https://www.tensorflow.org/lite/performance/quantization_spec) as implemented by proto/src/int8, measured
 * against TensorFlow Lite itself by verify:tflite, whose committed result this bench quotes.
 *
 * Per model:
 * - floatBytes / int8Bytes: the float32 and the fully int8 (int8 input and output) `.tflite` files;
 * - fp16Bytes: the fp16 ModelBlob — the artifact the hub serves for `encoding=fp16` (topology JSON plus every
 *   weight as binary16); there is no fp16 `.tflite` export;
 * - floatAccuracy: floatForward; fp16Accuracy: the weights through that fp16 blob and back; int8Accuracy: the int8
 *   graph's parameters dequantized, run in float (dequantizeGraph); int8IntegerOnlyAccuracy: Int8Interpreter on
 *   the graph decoded from the int8 `.tflite`;
 * - calibration: the activation ranges come from the fleet (100 devices' merged statistics), equal to the dataset's;
 * - arenaBytes, flashBytes, estLatencyMsM4: estimateMcuFit(topology, mcu-m4, int8);
 * - tfliteInterpreterAgreement, tfConverterInt8Accuracy: from test/bench/results/verify-tflite.json when it
 *   measured the same weights (its weightsSha256), else null.
 * The last stdout line is a JSON array, one object per model.
 *
 *   npm run bench:quant [-- --out test/bench/results/quant.json]
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  MCU_PROFILES, TensorEncoding, buildInt8Graph, decodeModelBlob, decodeTfliteInt8, dequantizeGraph, encodeModelBlob,
  encodeTfliteFloat, encodeTfliteInt8, estimateMcuFit, floatModelFromTopology,
} from '@fedfleet/proto';
import { mnistGlobal } from '@fedfleet/agent/ml';
import { quoteVerification, readVerifyResult, VERIFY_RESULT_PATH } from '../verify/verify-result.js';
import { BenchOutput, formatBytes, pct } from './bench-output.js';
import { calibrateBothWays } from './quant-calibration.js';
import { runFloat, runInt8 } from './quant-eval.js';
import { QUANT_MODEL_IDS, tfliteDescription, trainBuiltinModel, type QuantModelId } from './quant-models.js';

/** The goals for the int8 model. */
const QUANT_GOALS = Object.freeze({
  /** int8 .tflite bytes ≤ this × float .tflite bytes. */
  maxInt8ByteRatio: 0.3,
  /** Integer-only accuracy at most this far below float, in accuracy (0.01 = 1 point). */
  maxAccuracyDrop: 0.01,
});

interface QuantResult {
  bench: 'quant';
  model: QuantModelId;
  floatBytes: number;
  fp16Bytes: number;
  int8Bytes: number;
  floatAccuracy: number;
  fp16Accuracy: number;
  int8Accuracy: number;
  int8IntegerOnlyAccuracy: number;
  calibration: 'fleet' | 'dataset';
  arenaBytes: number;
  flashBytes: number;
  estLatencyMsM4: number;
  tfliteInterpreterAgreement: number | null;
  tfConverterInt8Accuracy: number | null;
}

async function measure(id: QuantModelId, out: BenchOutput): Promise<QuantResult> {
  const { test } = mnistGlobal();
  const trained = await trainBuiltinModel(id, out);
  out.line(`${id}: trained in ${trained.trainSec.toFixed(1)} s on ${trained.backend} (weights sha256 ${trained.weightsSha256.slice(0, 12)}…)`);
  const calibration = calibrateBothWays(trained.floatModel, out, id);
  if (!calibration.identicalAtMax) out.note(`${id}: fleet calibration differs from dataset calibration at percentile 100`);
  const graph = buildInt8Graph(trained.floatModel, calibration.fleet);
  const int8Tflite = encodeTfliteInt8(graph, { description: tfliteDescription(id, 'int8') });
  const floatTflite = encodeTfliteFloat(trained.floatModel, { description: tfliteDescription(id, 'float32') });
  const fp16Blob = encodeModelBlob({ topologyJson: trained.topologyJson, weights: trained.weights }, TensorEncoding.TENSOR_ENCODING_FP16);
  const fp16Model = floatModelFromTopology(trained.topologyJson, decodeModelBlob(fp16Blob).weights);

  const float = runFloat(trained.floatModel, test, out, `${id} float`);
  const fp16 = runFloat(fp16Model, test, out, `${id} fp16`);
  const dequantized = runFloat(dequantizeGraph(graph), test, out, `${id} int8 dequantized`);
  const integerOnly = runInt8(decodeTfliteInt8(int8Tflite), test, out, `${id} int8 integer-only`);
  const fit = estimateMcuFit(trained.topologyJson, MCU_PROFILES['mcu-m4'], 'int8');
  const quoted = quoteVerification(readVerifyResult(VERIFY_RESULT_PATH), id, trained.weightsSha256);
  if (quoted.missing) out.note(`${id}: ${quoted.missing}`);
  return {
    bench: 'quant',
    model: id,
    floatBytes: floatTflite.length,
    fp16Bytes: fp16Blob.length,
    int8Bytes: int8Tflite.length,
    floatAccuracy: float.accuracy,
    fp16Accuracy: fp16.accuracy,
    int8Accuracy: dequantized.accuracy,
    int8IntegerOnlyAccuracy: integerOnly.accuracy,
    calibration: 'fleet',
    arenaBytes: fit.arenaBytes,
    flashBytes: fit.flashBytes,
    estLatencyMsM4: Number(fit.estLatencyMs.toFixed(3)),
    tfliteInterpreterAgreement: quoted.tfliteInterpreterAgreement,
    tfConverterInt8Accuracy: quoted.tfConverterInt8Accuracy,
  };
}

/** One line per goal: the measured figure, the goal, and whether it holds. */
function goalLines(r: QuantResult): string[] {
  const ratio = r.int8Bytes / r.floatBytes;
  const drop = r.floatAccuracy - r.int8IntegerOnlyAccuracy;
  const verdict = (ok: boolean) => (ok ? 'holds' : 'MISSED');
  const lines = [
    `${r.model}: int8 ${r.int8Bytes} B = ${ratio.toFixed(4)} × float ${r.floatBytes} B (goal ≤ ${QUANT_GOALS.maxInt8ByteRatio}) → ` +
      verdict(ratio <= QUANT_GOALS.maxInt8ByteRatio),
    `${r.model}: integer-only ${pct(r.int8IntegerOnlyAccuracy)} vs float ${pct(r.floatAccuracy)}: ` +
      `${Math.abs(100 * drop).toFixed(2)} points ${drop > 0 ? 'below' : 'above'} ` +
      `(goal ≤ ${100 * QUANT_GOALS.maxAccuracyDrop}) → ${verdict(drop <= QUANT_GOALS.maxAccuracyDrop + 1e-12)}`,
  ];
  if (r.tfConverterInt8Accuracy === null) lines.push(`${r.model}: TensorFlow's converter: no verify:tflite result for these weights`);
  else {
    lines.push(`${r.model}: integer-only ${pct(r.int8IntegerOnlyAccuracy)} vs TensorFlow Lite's converter ${pct(r.tfConverterInt8Accuracy)} ` +
      `(goal ≥) → ${verdict(r.int8IntegerOnlyAccuracy >= r.tfConverterInt8Accuracy)}`);
  }
  return lines;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { out: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write('usage: npm run bench:quant -- [--out <file>]   (the JSON array is also written to <file>)\n');
    return;
  }
  const out = new BenchOutput();
  const results: QuantResult[] = [];
  for (const id of QUANT_MODEL_IDS) {
    const r = await measure(id, out);
    results.push(r);
    out.line(`${id}: float .tflite ${formatBytes(r.floatBytes)}, fp16 blob ${formatBytes(r.fp16Bytes)}, int8 .tflite ${formatBytes(r.int8Bytes)}; ` +
      `accuracy float ${pct(r.floatAccuracy)}, fp16 ${pct(r.fp16Accuracy)}, int8 dequantized ${pct(r.int8Accuracy)}, ` +
      `integer-only ${pct(r.int8IntegerOnlyAccuracy)}; mcu-m4 arena ${formatBytes(r.arenaBytes)}, flash ${formatBytes(r.flashBytes)}, ` +
      `~${r.estLatencyMsM4.toFixed(2)} ms`);
    for (const line of goalLines(r)) out.line(line);
  }
  const line = JSON.stringify(results);
  if (values.out) writeFileSync(values.out, `${line}\n`);
  out.line(line);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench:quant failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
    process.exit(1);
  },
);
