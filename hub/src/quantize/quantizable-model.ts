/**
 * The float model a quantization job calibrates: the version's topology and weights as the int8 path reads them
 * (proto's floatModelFromTopology, TF.js layouts). A topology the int8 .tflite cannot express is refused before a job
 * exists: a dry run builds and encodes the int8 model with placeholder ranges.
 */
import { buildInt8Graph, encodeTfliteInt8, floatModelFromTopology, type CalibrationRanges, type FloatModel } from '@fedfleet/proto';
import type { ModelContent } from '../models/model-registry.js';
import { convertingTopology } from '../models/tflite-export.js';

/** Placeholder ranges of the dry run: any finite, non-degenerate range builds the same ops and shapes. */
function placeholderRanges(model: FloatModel): CalibrationRanges {
  return { input: [-1, 1], layers: model.layers.map(() => [-1, 1]) };
}

/**
 * The float model of a version's content, checked to quantize.
 * @throws HubError HUB_ERR_EXPORT_UNSUPPORTED naming the layer the int8 .tflite cannot express (`details.protoCode`).
 */
export function quantizableModel(content: ModelContent, label: string): FloatModel {
  return convertingTopology(`${label} cannot be quantized to an int8 .tflite`, () => {
    const model = floatModelFromTopology(content.topologyJson, content.weights);
    encodeTfliteInt8(buildInt8Graph(model, placeholderRanges(model)));
    return model;
  });
}
