/**
 * A model's outputs and accuracy on a data set (the 2,000 test digits), in float (floatForward over plain typed
 * arrays) and integer-only (Int8Interpreter: the float input quantized with the graph's input parameters — the one
 * float step, done before the graph — then int8 all the way to int8 logits).
 */
import {
  Int8Interpreter, argMaxInt8, floatForward, quantizeActivation, shapeSize, type FloatModel, type Int8Graph,
} from '@fedfleet/proto';
import type { Dataset } from '@fedfleet/agent/ml';
import type { BenchOutput } from './bench-output.js';
import { examplesOf } from './quant-models.js';

export interface FloatRun {
  /** count × classes logits, row-major. */
  logits: Float32Array;
  accuracy: number;
}

export interface Int8Run {
  /** count × input size: the int8 codes fed to the graph. */
  inputs: Int8Array;
  /** count × classes int8 logits, row-major. */
  logits: Int8Array;
  accuracy: number;
}

/** Index of the largest value, the first of equal maxima (as argMaxInt8 and TFLite's ArgMax). */
function argMaxFloat(x: Float32Array, offset: number, length: number): number {
  let best = 0;
  for (let i = 1; i < length; i++) if (x[offset + i]! > x[offset + best]!) best = i;
  return best;
}

export function runFloat(model: FloatModel, data: Dataset, out?: BenchOutput, label = 'float'): FloatRun {
  let logits = new Float32Array(0);
  let classes = 0;
  let correct = 0;
  let i = 0;
  for (const x of examplesOf(data)) {
    const y = floatForward(model, x);
    if (i === 0) {
      classes = y.length;
      logits = new Float32Array(data.count * classes);
    }
    logits.set(y, i * classes);
    if (argMaxFloat(logits, i * classes, classes) === data.y[i]) correct++;
    i++;
    if (i % 100 === 0) out?.progress(label, i, data.count);
  }
  out?.endProgress();
  return { logits, accuracy: correct / data.count };
}

export function runInt8(graph: Int8Graph, data: Dataset, out?: BenchOutput, label = 'int8'): Int8Run {
  const interpreter = new Int8Interpreter(graph);
  const inputQuant = graph.tensors[graph.input]!.quant;
  const inputSize = shapeSize(graph.tensors[graph.input]!.shape);
  const classes = shapeSize(graph.tensors[graph.output]!.shape);
  const inputs = new Int8Array(data.count * inputSize);
  const logits = new Int8Array(data.count * classes);
  let correct = 0;
  let i = 0;
  for (const x of examplesOf(data)) {
    const codes = inputs.subarray(i * inputSize, (i + 1) * inputSize);
    quantizeActivation(x, inputQuant, codes);
    logits.set(interpreter.invoke(codes), i * classes);
    if (argMaxInt8(logits, i * classes, classes) === data.y[i]) correct++;
    i++;
    if (i % 100 === 0) out?.progress(label, i, data.count);
  }
  out?.endProgress();
  return { inputs, logits, accuracy: correct / data.count };
}
