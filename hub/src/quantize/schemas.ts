/** TypeBox schemas of the quantization API's answers (the request is quantization-request.ts). */
import Type, { type Static } from 'typebox';
import { CALIBRATION_DEVICE_STATES, QUANTIZATION_STATES } from './quantization-state.js';

export const TensorRangeSchema = Type.Object({ name: Type.String(), min: Type.Number(), max: Type.Number() });

export const QuantizationSchema = Type.Object({
  id: Type.String(),
  modelId: Type.String(),
  versionId: Type.String(),
  version: Type.Integer(),
  calibration: Type.Enum(['fleet', 'dataset']),
  datasetId: Type.Optional(Type.String()),
  datasetName: Type.Optional(Type.String()),
  selector: Type.String(),
  minDevices: Type.Integer(),
  maxDevices: Type.Union([Type.Integer(), Type.Null()]),
  deadlineSec: Type.Number(),
  percentile: Type.Number(),
  histogramBins: Type.Integer(),
  maxExamplesPerDevice: Type.Integer(),
  state: Type.Enum(QUANTIZATION_STATES, { description: 'calibrating → building → done | failed' }),
  errorCode: Type.Optional(Type.String({ description: 'HUB_ERR_* code of `error`: branch on it, not on the text' })),
  error: Type.Optional(Type.String({ description: 'why the job failed' })),
  devicesAsked: Type.Integer(),
  devicesReported: Type.Integer({ description: 'devices whose statistics were accepted' }),
  devicesRejected: Type.Integer({ description: 'devices whose report was rejected (never merged)' }),
  exampleCount: Type.Integer({ description: 'examples behind the merged statistics' }),
  ranges: Type.Optional(Type.Array(TensorRangeSchema, { description: 'the [min, max] each activation tensor is quantized with, input first' })),
  artifact: Type.Optional(Type.Object({
    sha256: Type.String(), sizeBytes: Type.Integer(), format: Type.Literal('tflite'), encoding: Type.Literal('int8'),
  }, { description: 'the int8 .tflite: GET /v1/models/:id/versions/:version/artifact?format=tflite&encoding=int8' })),
  deadlineAt: Type.Optional(Type.String({ format: 'date-time' })),
  createdAt: Type.String({ format: 'date-time' }),
  finishedAt: Type.Optional(Type.String({ format: 'date-time' })),
});

export const CalibrationDeviceSchema = Type.Object({
  deviceId: Type.String(),
  commandId: Type.String(),
  state: Type.Enum(CALIBRATION_DEVICE_STATES),
  reasonCode: Type.Union([Type.String(), Type.Null()], { description: 'HUB_ERR_* of a rejected report, AGENT_ERR_* of a refusal or failure' }),
  reason: Type.Union([Type.String(), Type.Null()]),
  exampleCount: Type.Union([Type.Integer(), Type.Null()]),
  updatedAt: Type.String({ format: 'date-time' }),
});

export const QuantizationDetailSchema = Type.Intersect([QuantizationSchema, Type.Object({ devices: Type.Array(CalibrationDeviceSchema) })]);

export const QuantizationParamsSchema = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

export type QuantizationJson = Static<typeof QuantizationSchema>;
export type CalibrationDeviceJson = Static<typeof CalibrationDeviceSchema>;
export type QuantizationDetailJson = Static<typeof QuantizationDetailSchema>;
