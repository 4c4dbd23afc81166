// A plain summary of a .tflite file (first subgraph) for tests, the CLI and verification scripts: what a reader
// of the flatbuffer sees, without deciding whether it can run.
import { builtinOperatorName, readTflite, type TfliteTensorType } from './read-tflite.js';

export interface TfliteTensorSummary {
  name: string;
  /** As stored, batch dimension included. */
  shape: number[];
  type: TfliteTensorType;
  /** Empty when the tensor is not quantized. */
  scales: number[];
  zeroPoints: number[];
  quantizedDimension: number;
}

export interface TfliteSummary {
  /** Schema version (3). */
  version: number;
  description: string;
  /** Builtin operator names in execution order, e.g. 'FULLY_CONNECTED'. */
  operators: string[];
  tensors: TfliteTensorSummary[];
  /** Indices into `tensors`. */
  inputs: number[];
  outputs: number[];
}

/** Summarizes `bytes`; throws ProtoError PROTO_ERR_BAD_TFLITE for a malformed file (see readTflite). */
export function describeTflite(bytes: Uint8Array): TfliteSummary {
  const view = readTflite(bytes);
  return {
    version: view.version,
    description: view.description,
    operators: view.operators.map((op) => builtinOperatorName(op.builtinCode)),
    tensors: view.tensors.map((t) => ({
      name: t.name,
      shape: t.shape,
      type: t.type,
      scales: t.quant?.scales ?? [],
      zeroPoints: t.quant?.zeroPoints ?? [],
      quantizedDimension: t.quant?.quantizedDimension ?? 0,
    })),
    inputs: view.inputs,
    outputs: view.outputs,
  };
}
