import * as tf from '@tensorflow/tfjs';
import { shapeSize } from '@fedfleet/proto';
import type { Dataset } from '../data/dataset.js';
import { AgentError } from '../errors.js';

/** Shape of one input example as the model declares it (batch dimension dropped). */
export function modelInputShape(model: tf.LayersModel): number[] {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new AgentError('AGENT_ERR_BAD_MODEL', 'only models with one input and one output are supported');
  }
  const shape = model.inputs[0]!.shape.slice(1);
  if (shape.some((d) => d == null || d <= 0)) {
    throw new AgentError('AGENT_ERR_BAD_MODEL', `model input shape [${model.inputs[0]!.shape}] is not fully defined`);
  }
  return shape as number[];
}

/** Number of classes the model predicts (the size of its last output dimension). */
export function modelClassCount(model: tf.LayersModel): number {
  const shape = model.outputs[0]!.shape;
  const classes = shape[shape.length - 1];
  if (shape.length !== 2 || classes == null) {
    throw new AgentError('AGENT_ERR_BAD_MODEL', `model output shape [${shape}] is not [batch, classes]`);
  }
  return classes;
}

/**
 * Makes batch tensors from a data set for a model. Examples are reshaped to the model's input shape when the
 * sizes agree (MNIST `[28, 28, 1]` feeds the 2NN's `[784]`). The staging buffers are reused across batches.
 */
export class BatchMaker {
  readonly inputShape: number[];
  readonly numClasses: number;
  private readonly featureCount: number;
  private readonly x: Float32Array;
  private readonly y: Float32Array;

  constructor(
    private readonly data: Dataset,
    model: tf.LayersModel,
    maxBatchSize: number,
  ) {
    this.inputShape = modelInputShape(model);
    this.numClasses = modelClassCount(model);
    this.featureCount = shapeSize(this.inputShape);
    if (shapeSize(data.inputShape) !== this.featureCount) {
      throw new AgentError(
        'AGENT_ERR_DATA_FORMAT',
        `examples of shape [${data.inputShape}] do not fit the model input [${this.inputShape}]`,
      );
    }
    if (data.numClasses !== this.numClasses) {
      throw new AgentError('AGENT_ERR_DATA_FORMAT', `data has ${data.numClasses} classes, the model predicts ${this.numClasses}`);
    }
    this.x = new Float32Array(maxBatchSize * this.featureCount);
    this.y = new Float32Array(maxBatchSize * this.numClasses);
  }

  /** Features of examples `order[from..to)` as a tensor [to − from, ...inputShape]; the caller disposes it. */
  features(order: ArrayLike<number>, from: number, to: number): tf.Tensor {
    const n = this.featureCount;
    for (let i = from; i < to; i++) {
      const src = order[i]! * n;
      this.x.set(this.data.x.subarray(src, src + n), (i - from) * n);
    }
    // tf.tensor copies on wasm but keeps the array on cpu: hand it a copy so the staging buffer can be reused.
    return tf.tensor(this.x.slice(0, (to - from) * n), [to - from, ...this.inputShape], 'float32');
  }

  /** One-hot labels of examples `order[from..to)` as a tensor [to − from, numClasses]; the caller disposes it. */
  oneHotLabels(order: ArrayLike<number>, from: number, to: number): tf.Tensor2D {
    const k = this.numClasses;
    const y = this.y.subarray(0, (to - from) * k);
    y.fill(0);
    for (let i = from; i < to; i++) y[(i - from) * k + this.data.y[order[i]!]!] = 1;
    return tf.tensor2d(y.slice(), [to - from, k], 'float32');
  }
}
