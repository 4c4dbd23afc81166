import { shapeSize } from '@fedfleet/proto';
import type { Dataset } from '../data/dataset.js';
import { AgentError } from '../errors.js';

/**
 * The features of a data set's examples `[from, to)` as row views (no copies), for the plain typed-array models of
 * @fedfleet/proto (FloatModel, Int8Graph). Both store activations NHWC row-major like the data set, so only the
 * element count has to agree (a `[784]` model reads `[28, 28, 1]` digits).
 * @throws AgentError AGENT_ERR_DATA_FORMAT when an example does not have the model input's element count.
 */
export function exampleRows(data: Dataset, modelInputShape: readonly number[], from = 0, to = data.count): Float32Array[] {
  const features = shapeSize(modelInputShape);
  if (shapeSize(data.inputShape) !== features) {
    throw new AgentError('AGENT_ERR_DATA_FORMAT', `examples of shape [${data.inputShape}] do not fit the model input [${modelInputShape}]`);
  }
  const rows: Float32Array[] = [];
  for (let i = from; i < to; i++) rows.push(data.x.subarray(i * features, (i + 1) * features));
  return rows;
}
