/**
 * `npm run verify:tflite` (issue 9 item 6): fedfleet's `.tflite` files in Google's implementation.
 *
 * For each built-in model trained centrally on the MNIST split (test/bench/quant-models.ts): calibrate two ways
 * (dataset and fleet, test/bench/quant-calibration.ts), build the int8 graph from the fleet's ranges, export it
 * with encodeTfliteInt8 and the float model with encodeTfliteFloat, decode the int8 file back with
 * decodeTfliteInt8 and run our integer-only kernels on the 2,000 test digits — the SAME file Python loads. Then
 * tflite_check.py (in the venv of tf-venv.ts) runs both files in tf.lite.Interpreter and TensorFlow Lite's own
 * post-training int8 quantization of the same float weights. The last stdout line is one JSON object, also written
 * to test/bench/results/verify-tflite.json.
 *
 *   npm run verify:tflite [-- --keep] [-- --out <file>]
 */
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  buildInt8Graph, decodeTfliteInt8, describeTflite, encodeTfliteFloat, encodeTfliteInt8,
} from '@fedfleet/proto';
import { mnistGlobal } from '@fedfleet/agent/ml';
import { BenchOutput, formatBytes, pct } from '../bench/bench-output.js';
import { calibrateBothWays, COMPARE_PERCENTILE } from '../bench/quant-calibration.js';
import { runFloat, runInt8 } from '../bench/quant-eval.js';
import { QUANT_MODEL_IDS, QUANT_TRAINING, tfliteDescription, trainBuiltinModel } from '../bench/quant-models.js';
import { ensureTfVenv, runProcess, tfVenvDir } from './tf-venv.js';
import { writeDigits, writeManifest, writeModelFiles, writeTfliteFiles, type ManifestModel } from './tflite-files.js';
import { VERIFY_GOALS, VERIFY_RESULT_PATH, type PythonResult, type VerifiedModel, type VerifyTfliteResult } from './verify-result.js';

const USAGE = `usage: npm run verify:tflite -- [--out <file>] [--keep]

  --out <file>   where to write the JSON result (default test/bench/results/verify-tflite.json)
  --keep         keep the work folder (the .tflite files, digits and our outputs) and print its path
Environment: FEDFLEET_TF_VENV (default .venv-tf) — the Python venv with tensorflow-cpu, created when missing.
`;

const SCRIPT = fileURLToPath(new URL('./tflite_check.py', import.meta.url));

/** What our side measured of one model. */
interface JsSide {
  manifest: ManifestModel;
  fields: {
    model: string;
    weightsSha256: string;
    backend: string;
    tfjsAccuracy: number;
    floatAccuracy: number;
    int8IntegerOnlyAccuracy: number;
    int8Bytes: number;
    floatBytes: number;
    /** Builtin operators of our int8 file, in execution order (describeTflite). */
    operators: string[];
    calibration: Record<string, unknown>;
  };
  timings: Record<string, number>;
}

async function prepareModel(id: (typeof QUANT_MODEL_IDS)[number], dir: string, out: BenchOutput): Promise<JsSide> {
  const { test } = mnistGlobal();
  const trained = await trainBuiltinModel(id, out);
  out.line(`${id}: trained in ${trained.trainSec.toFixed(1)} s on ${trained.backend}, TensorFlow.js test accuracy ${pct(trained.tfjsAccuracy)}`);
  const calibrateStart = performance.now();
  const calibration = calibrateBothWays(trained.floatModel, out, id);
  const calibrateSec = (performance.now() - calibrateStart) / 1000;
  out.line(`${id}: fleet calibration (${calibration.devices} devices, ${calibration.examples} digits) ` +
    `${calibration.identicalAtMax ? 'equals' : 'DIFFERS FROM'} dataset calibration at percentile 100; ` +
    `max difference at percentile ${COMPARE_PERCENTILE}: ${calibration.maxDiffAtPercentile.toPrecision(3)}`);
  const int8Tflite = encodeTfliteInt8(buildInt8Graph(trained.floatModel, calibration.fleet), { description: tfliteDescription(id, 'int8') });
  const floatTflite = encodeTfliteFloat(trained.floatModel, { description: tfliteDescription(id, 'float32') });
  const files = writeTfliteFiles(dir, id, int8Tflite, floatTflite);
  // Our integer-only kernels run the graph decoded from the file just written: the bytes Python loads.
  const graph = decodeTfliteInt8(new Uint8Array(readFileSync(files.int8Path)));
  const int8 = runInt8(graph, test, out, `${id} int8`);
  const float = runFloat(trained.floatModel, test, out, `${id} float`);
  const manifest = writeModelFiles(
    dir, { id, floatModel: trained.floatModel, int8Inputs: int8.inputs, int8Logits: int8.logits, floatLogits: float.logits }, files.names,
  );
  out.line(`${id}: float ${pct(float.accuracy)}, int8 integer-only ${pct(int8.accuracy)}; ` +
    `int8 .tflite ${formatBytes(int8Tflite.length)}, float .tflite ${formatBytes(floatTflite.length)}`);
  return {
    manifest,
    fields: {
      model: id,
      weightsSha256: trained.weightsSha256,
      backend: trained.backend,
      tfjsAccuracy: trained.tfjsAccuracy,
      floatAccuracy: float.accuracy,
      int8IntegerOnlyAccuracy: int8.accuracy,
      int8Bytes: int8Tflite.length,
      floatBytes: floatTflite.length,
      operators: describeTflite(int8Tflite).operators,
      calibration: {
        used: 'fleet', devices: calibration.devices, examples: calibration.examples,
        identicalToDatasetAtMax: calibration.identicalAtMax,
        comparePercentile: COMPARE_PERCENTILE, maxDiffAtPercentile: calibration.maxDiffAtPercentile,
      },
    },
    timings: { trainSec: round(trained.trainSec), calibrateSec: round(calibrateSec) },
  };
}

const round = (x: number, digits = 2): number => Number(x.toFixed(digits));

function combine(js: JsSide, py: PythonResult['models'][number]): VerifiedModel {
  const goals = {
    classAgreement: { goal: VERIFY_GOALS.classAgreement, met: py.int8.classAgreement >= VERIFY_GOALS.classAgreement },
    withinOneStep: { goal: VERIFY_GOALS.withinOneStep, met: py.int8.withinOneStep >= VERIFY_GOALS.withinOneStep },
    atLeastTfConverter: { met: js.fields.int8IntegerOnlyAccuracy >= py.tfConverter.accuracy },
  };
  return {
    ...js.fields,
    tfliteInterpreterAgreement: py.int8.classAgreement,
    tfliteWithinOneStep: py.int8.withinOneStep,
    tfliteInt8Accuracy: py.int8.accuracy,
    tfConverterInt8Accuracy: py.tfConverter.accuracy,
    goals,
    tflite: py,
    timings: { ...js.timings, ...py.timings },
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { out: { type: 'string' }, keep: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const start = performance.now();
  const out = new BenchOutput();
  const python = await ensureTfVenv(out);
  const dir = mkdtempSync(join(tmpdir(), 'fedfleet-verify-tflite-'));
  try {
    const { train, test } = mnistGlobal();
    const sides: JsSide[] = [];
    for (const id of QUANT_MODEL_IDS) sides.push(await prepareModel(id, dir, out));
    writeManifest(dir, { ...writeDigits(dir, test, train), models: sides.map((s) => s.manifest) });
    out.line(`running TensorFlow Lite (${tfVenvDir()}) on the files in ${dir}`);
    const run = await runProcess(python, [SCRIPT, dir], { out, stderrPath: join(dir, 'python-stderr.log'), echo: /^checking / });
    const lastLine = run.stdout.trim().split('\n').pop() ?? '';
    if (run.code !== 0 || !lastLine.startsWith('{')) {
      values.keep = true;
      throw new Error(`tflite_check.py failed (exit ${run.code}); see ${join(dir, 'python-stderr.log')}`);
    }
    const py = JSON.parse(lastLine) as PythonResult;
    const models = sides.map((side) => combine(side, py.models.find((m) => m.model === side.fields.model)!));
    for (const m of models) {
      const t = m.tflite as PythonResult['models'][number];
      out.line(`${m.model}: TFLite ${py.tfVersion} reference kernels agree on the class of ${pct(t.int8.classAgreement)} ` +
        `(goal ${pct(VERIFY_GOALS.classAgreement, 1)}), logits within 1 step on ${pct(t.int8.withinOneStep)} ` +
        `(goal ${pct(VERIFY_GOALS.withinOneStep, 0)}), exact on ${pct(t.int8.exactLogits)}; TFLite int8 accuracy ` +
        `${pct(t.int8.accuracy)}; float file ${pct(t.float.accuracy)} (agrees ${pct(t.float.classAgreement)}); ` +
        `TensorFlow's converter int8 ${pct(t.tfConverter.accuracy)} vs ours ${pct(m.int8IntegerOnlyAccuracy as number)}`);
    }
    const result: VerifyTfliteResult = {
      bench: 'verify-tflite',
      tfVersion: py.tfVersion,
      kerasVersion: py.kerasVersion,
      python: py.python,
      testDigits: test.count,
      calibrationDigits: train.count,
      training: { ...QUANT_TRAINING, split: '8,000 train / 2,000 test digits of the mnist package (bench:fl split)' },
      goals: VERIFY_GOALS,
      models,
      wallSec: round((performance.now() - start) / 1000, 1),
    };
    const line = JSON.stringify(result);
    const outPath = values.out ?? VERIFY_RESULT_PATH;
    mkdirSync(dirname(outPath), { recursive: true });
    writeFileSync(outPath, `${line}\n`);
    out.line(line);
  } finally {
    if (values.keep) out.note(`work folder kept: ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`verify:tflite failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
    process.exit(1);
  },
);
