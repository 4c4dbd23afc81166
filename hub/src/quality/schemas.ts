/** Response schema of `GET /v1/devices/:id/quality` (hub/docs/http-api.md#device-quality). */
import Type, { type Static } from 'typebox';
import { QUALITY_SOURCES } from './quality-events.js';

const Source = Type.Enum(QUALITY_SOURCES);
const Accuracy = Type.Number({ minimum: 0, maximum: 1, description: 'fraction correct, 0..1' });
const At = Type.String({ format: 'date-time' });

export const DeviceQualitySchema = Type.Object({
  deviceId: Type.String(),
  versions: Type.Array(Type.Object({
    modelId: Type.Union([Type.String(), Type.Null()]),
    versionId: Type.String(),
    version: Type.Union([Type.Integer(), Type.Null()], { description: 'null for a version the registry does not know' }),
    baseline: Type.Union([Type.Object({ accuracy: Accuracy, source: Source, at: At }), Type.Null()]),
    samples: Type.Array(Type.Object({ source: Source, accuracy: Accuracy, examples: Type.Integer({ minimum: 0 }), at: At }), {
      description: 'oldest first; the newest 500 per source are kept',
    }),
  })),
  inputDrift: Type.Union([
    Type.Object({
      psi: Type.Number({ description: 'population stability index of the recent inputs against the training inputs' }),
      ks: Type.Number({ minimum: 0, maximum: 1, description: 'largest difference of the binned cumulative distributions' }),
      examples: Type.Integer({ minimum: 0 }),
      baselineExamples: Type.Integer({ minimum: 0 }),
      at: At,
    }),
    Type.Null(),
  ]),
});

export type DeviceQualityJson = Static<typeof DeviceQualitySchema>;
