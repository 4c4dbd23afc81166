import {
  Int8Interpreter, TensorEncoding, argMaxInt8, decodeTfliteInt8, quantizeActivation, shapeSize, type Int8Graph,
  type ModelRefProps,
} from '@fedfleet/proto';
import type { Dataset } from '../data/dataset.js';
import { AgentError } from '../errors.js';
import { DEFAULT_EVAL_BATCH_SIZE, scoreInSlices, type BetweenSlices, type EvaluationResult } from '../ml/evaluate.js';
import { exampleCrossEntropy } from '../ml/loss.js';
import type { CommandContext } from './command-handler.js';
import { exampleRows } from './example-rows.js';

/** `ModelRef.format` of a TensorFlow Lite flatbuffer artifact (the other format is the tfjs-layers ModelBlob). */
export const TFLITE_FORMAT = 'tflite';

/**
 * Decides whether this device runs a decoded int8 model, and says why not (firmware-sim's microcontrollers judge
 * flash and tensor arena with the MCU resource model). Runs before any inference.
 */
export type Int8ModelAdmission = (graph: Int8Graph, ctx: CommandContext) => AgentError | undefined;

/** How a ModelRef is run: the float tfjs model, or a .tflite flatbuffer with int8 or float tensors. */
export type ModelRefKind = 'tfjs-layers' | 'tflite-int8' | 'tflite-float';

export function modelRefKind(ref: ModelRefProps): ModelRefKind {
  if (ref.format !== TFLITE_FORMAT) return 'tfjs-layers';
  const encoding = ref.encoding ?? TensorEncoding.TENSOR_ENCODING_UNSPECIFIED;
  // An unset encoding is read as int8: the .tflite files the hub serves to devices are the fully int8 ones.
  return encoding === TensorEncoding.TENSOR_ENCODING_INT8 || encoding === TensorEncoding.TENSOR_ENCODING_UNSPECIFIED
    ? 'tflite-int8' : 'tflite-float';
}

/** True when the graph ends in the int8 softmax op: its output codes are probabilities, not logits. */
function endsInSoftmax(graph: Int8Graph): boolean {
  return (graph.ops[graph.ops.length - 1]?.kind as string | undefined) === 'softmax';
}

/**
 * Probability of class `label` from the output codes, outside the integer path: the codes dequantize to
 * real = scale × (q − zeroPoint) [TFLite int8 spec]; logits then go through a float softmax, where the zero point
 * cancels: p = exp(scale·(q_label − q_max)) / Σ exp(scale·(q_c − q_max)).
 */
function labelProbability(codes: Int8Array, classes: number, label: number, scale: number, zeroPoint: number, softmaxDone: boolean): number {
  if (softmaxDone) return scale * (codes[label]! - zeroPoint);
  let max = codes[0]!;
  for (let c = 1; c < classes; c++) if (codes[c]! > max) max = codes[c]!;
  let sum = 0;
  for (let c = 0; c < classes; c++) sum += Math.exp(scale * (codes[c]! - max));
  return Math.exp(scale * (codes[label]! - max)) / sum;
}

/**
 * Scores an int8 graph on a data set example by example: `score(from, to)` adds examples [from, to) to the sums,
 * `result()` divides them by the examples of the set (NaN loss and accuracy for an empty set).
 * @throws AgentError AGENT_ERR_DATA_FORMAT when the examples or classes do not match the model.
 */
function int8Scorer(graph: Int8Graph, data: Dataset) {
  const inputInfo = graph.tensors[graph.input]!;
  const outputInfo = graph.tensors[graph.output]!;
  const rows = exampleRows(data, inputInfo.shape);
  const classes = shapeSize(outputInfo.shape);
  if (classes !== data.numClasses) throw new AgentError('AGENT_ERR_DATA_FORMAT', `data has ${data.numClasses} classes, the model predicts ${classes}`);
  const interpreter = new Int8Interpreter(graph);
  const softmaxDone = endsInSoftmax(graph);
  const { scale, zeroPoint } = outputInfo.quant;
  let correct = 0;
  let lossSum = 0;
  return {
    score(from: number, to: number): void {
      for (let i = from; i < to; i++) {
        quantizeActivation(rows[i]!, inputInfo.quant, interpreter.input);
        const codes = interpreter.invoke();
        const label = data.y[i]!;
        if (argMaxInt8(codes, 0, classes) === label) correct++;
        lossSum += exampleCrossEntropy(labelProbability(codes, classes, label, scale, zeroPoint, softmaxDone));
      }
    },
    result: (): EvaluationResult => ({ loss: lossSum / data.count, accuracy: correct / data.count, count: data.count }),
  };
}

/**
 * Loss and accuracy of an int8 graph on a data set, as a microcontroller computes them: each example is quantized
 * with the graph's input parameters (the only float step before the integer path), run integer-only by
 * Int8Interpreter, and classified by arg-max over the int8 output codes. The cross-entropy comes from the
 * dequantized outputs, after the integer path, with the clipping float evaluation uses.
 * @throws AgentError AGENT_ERR_DATA_FORMAT when the examples or classes do not match the model.
 */
export function evaluateInt8Graph(graph: Int8Graph, data: Dataset): EvaluationResult {
  const scorer = int8Scorer(graph, data);
  scorer.score(0, data.count);
  return scorer.result();
}

/** Examples an int8 evaluation runs between two looks at the event loop (the float one: a batch, as many). */
export const INT8_EVAL_SLICE_EXAMPLES = DEFAULT_EVAL_BATCH_SIZE;

/**
 * {@link evaluateInt8Graph} in slices of `sliceExamples`, with `between` awaited after each (the last one too), where
 * a device lets its event loop run and a deadline or a Cancel stops the evaluation.
 */
export async function evaluateInt8GraphInSlices(
  graph: Int8Graph, data: Dataset, between: BetweenSlices, sliceExamples = INT8_EVAL_SLICE_EXAMPLES,
): Promise<EvaluationResult> {
  const scorer = int8Scorer(graph, data);
  await scoreInSlices(data.count, sliceExamples, scorer.score, between);
  return scorer.result();
}

/**
 * Fetches a .tflite artifact (stopping at `signal` too, when given) and decodes it to an Int8Graph, then asks
 * `admit` whether this device runs it.
 * @returns the graph, or the AgentError to refuse the task with.
 * @throws ProtoError PROTO_ERR_BAD_TFLITE for bytes that are not a supported int8 TFLite model.
 */
export async function loadInt8Model(ctx: CommandContext, ref: ModelRefProps, admit?: Int8ModelAdmission, signal?: AbortSignal): Promise<Int8Graph | AgentError> {
  const bytes = await ctx.fetchArtifact({ sha256: ref.sha256 ?? '', sizeBytes: ref.sizeBytes ?? 0 }, signal);
  const graph = decodeTfliteInt8(bytes);
  return admit?.(graph, ctx) ?? graph;
}
