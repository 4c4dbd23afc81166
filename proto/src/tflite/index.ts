// TensorFlow Lite flatbuffers (.tflite): export of int8 graphs and float models, import of int8 graphs.
export { encodeTfliteInt8, type EncodeTfliteOptions } from './encode-int8.js';
export { encodeTfliteFloat } from './encode-float.js';
export { decodeTfliteInt8 } from './decode-int8.js';
export { describeTflite, type TfliteSummary, type TfliteTensorSummary } from './describe-tflite.js';
export type { TfliteTensorType } from './read-tflite.js';
export { TFLITE_LIMITS } from './tflite-tables.js';
