/** TypeBox schemas of the quantization API's answers (the request is quantization-request.ts). */
import Type, { type Static, type TSchema } from 'typebox';
import { CALIBRATION_DEVICE_STATES, EVAL_DEVICE_STATES, FLEET_EVAL_STATES, QUANTIZATION_STATES } from './quantization-state.js';

export const TensorRangeSchema = Type.Object({ name: Type.String(), min: Type.Number(), max: Type.Number() });

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const FleetEvalSchema = Type.Object({
  state: Type.Enum(FLEET_EVAL_STATES, { description: 'evaluating → done | no-results | interrupted; no-devices when none could evaluate' }),
  devicesAsked: Type.Integer(),
  devices: Type.Integer({ description: 'devices whose EvalResult counts' }),
  examples: Type.Integer({ description: 'examples behind accuracy and loss' }),
  accuracy: Nullable(Type.Number({ description: 'accuracy of the int8 model, weighted by each device\'s example count; null without results' })),
  loss: Nullable(Type.Number()),
  refused: Type.Array(Type.Object({ deviceId: Type.String(), code: Nullable(Type.String()), reason: Nullable(Type.String()) }), {
    description: 'devices that refused, with their AGENT_ERR_* code and reason (a microcontroller too small says what it lacks)',
  }),
  deadlineAt: Type.Optional(Type.String({ format: 'date-time' })),
}, { description: 'the int8 .tflite evaluated integer-only on the fleet\'s own data' });

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
  state: Type.Enum(QUANTIZATION_STATES, { description: 'calibrating → building → [evaluating →] done | failed' }),
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
  evaluate: Nullable(Type.Object({ selector: Type.String() }, { description: 'the devices asked to evaluate the int8 file; null = no fleet evaluation' })),
  fleetEval: Type.Optional(FleetEvalSchema),
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

export const EvalDeviceSchema = Type.Object({
  deviceId: Type.String(),
  commandId: Type.String(),
  state: Type.Enum(EVAL_DEVICE_STATES),
  reasonCode: Nullable(Type.String({ description: 'HUB_ERR_EVAL_RESULT_INVALID of a rejected result, AGENT_ERR_* of a refusal or failure' })),
  reason: Nullable(Type.String()),
  exampleCount: Nullable(Type.Integer()),
  accuracy: Nullable(Type.Number()),
  loss: Nullable(Type.Number()),
  updatedAt: Type.String({ format: 'date-time' }),
});

export const QuantizationDetailSchema = Type.Intersect([
  QuantizationSchema, Type.Object({ devices: Type.Array(CalibrationDeviceSchema), evalDevices: Type.Array(EvalDeviceSchema) }),
]);

export const QuantizationParamsSchema = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

export type QuantizationJson = Static<typeof QuantizationSchema>;
export type CalibrationDeviceJson = Static<typeof CalibrationDeviceSchema>;
export type EvalDeviceJson = Static<typeof EvalDeviceSchema>;
export type FleetEvalJson = Static<typeof FleetEvalSchema>;
export type QuantizationDetailJson = Static<typeof QuantizationDetailSchema>;
