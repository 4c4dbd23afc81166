/**
 * Update validation (DESIGN §4): base version, example count, tensor count and shapes, encoding, finite values,
 * L2 norm bound. Round membership, lateness and "one update per device" are the coordinator's (they need the
 * round's state); everything that can be judged from the message and the base model is here.
 */
import { decodeWeights, isProtoError, type ModelWeights, type WeightUpdateProps } from '@fedfleet/proto';
import { HubError, type HubErrorCode } from '../errors.js';

export interface ExpectedUpdate {
  baseVersionId: string;
  /** Names and shapes of the base model's weights, in order. */
  shapes: readonly { name: string; shape: readonly number[] }[];
  /** L2 bound on the whole delta; 0 = none. */
  maxUpdateNorm: number;
  /** Upper bound on the claimed example count (a device cannot claim to have trained on a billion examples). */
  maxExampleCount?: number;
}

export interface ValidUpdate {
  delta: ModelWeights;
  exampleCount: number;
  /** L2 norm of the delta. */
  norm: number;
}

function reject(code: HubErrorCode, message: string): HubError {
  return new HubError(code, { message });
}

export function validateUpdate(update: WeightUpdateProps, expected: ExpectedUpdate): ValidUpdate {
  if ((update.baseVersionId ?? '') !== expected.baseVersionId) {
    throw reject('HUB_ERR_UPDATE_BASE_MISMATCH', `update is against version ${update.baseVersionId || '(none)'}, the round's base is ${expected.baseVersionId}`);
  }
  const exampleCount = Number(update.exampleCount ?? 0);
  if (!Number.isInteger(exampleCount) || exampleCount < 1 || exampleCount > (expected.maxExampleCount ?? 1e9)) {
    throw reject('HUB_ERR_UPDATE_EXAMPLE_COUNT', `example count ${exampleCount} is not a positive integer within bounds`);
  }
  const tensors = update.tensors ?? [];
  if (tensors.length !== expected.shapes.length) {
    throw reject('HUB_ERR_UPDATE_SHAPE', `${tensors.length} tensors, the model has ${expected.shapes.length}`);
  }
  let total = 0;
  for (let i = 0; i < tensors.length; i++) {
    const got = tensors[i]!.shape ?? [];
    const want = expected.shapes[i]!.shape;
    if (got.length !== want.length || got.some((d, j) => d !== want[j])) {
      throw reject('HUB_ERR_UPDATE_SHAPE', `tensor ${i} (${expected.shapes[i]!.name}) has shape [${got.join(',')}], expected [${want.join(',')}]`);
    }
    total += want.reduce((a, b) => a * b, 1);
  }
  let delta: ModelWeights;
  try {
    delta = decodeWeights(tensors, { maxElements: total });
  } catch (error) {
    if (isProtoError(error) && error.code === 'PROTO_ERR_NON_FINITE') throw reject('HUB_ERR_UPDATE_NON_FINITE', error.message);
    if (isProtoError(error)) throw reject('HUB_ERR_UPDATE_MALFORMED', error.message);
    throw error;
  }
  let sumSquares = 0;
  for (const tensor of delta) {
    const data = tensor.data;
    for (let i = 0; i < data.length; i++) sumSquares += data[i]! * data[i]!;
  }
  const norm = Math.sqrt(sumSquares);
  if (!Number.isFinite(norm)) throw reject('HUB_ERR_UPDATE_NON_FINITE', 'the update norm overflows');
  if (expected.maxUpdateNorm > 0 && norm > expected.maxUpdateNorm) {
    throw reject('HUB_ERR_UPDATE_NORM', `update L2 norm ${norm.toPrecision(4)} exceeds the bound ${expected.maxUpdateNorm}`);
  }
  // Names are informative only: a device may run a model built in a process that suffixed them.
  delta.forEach((tensor, i) => (tensor.name = expected.shapes[i]!.name));
  return { delta, exampleCount, norm };
}
