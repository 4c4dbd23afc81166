/** TypeBox schemas of the models API. */
import { DEFAULT_ENCODING } from '@fedfleet/proto';
import Type from 'typebox';
import { EncodingSchema, encodingSchema } from './encoding-schema.js';
import { McuFitSchema } from './mcu-fit-view.js';

export const ModelSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  architecture: Type.String(),
  description: Type.String(),
  inputShape: Type.Array(Type.Integer()),
  numClasses: Type.Integer(),
  paramCount: Type.Integer(),
  createdAt: Type.String({ format: 'date-time' }),
  latestVersion: Type.Integer(),
  latestVersionId: Type.Union([Type.String(), Type.Null()]),
});

export const VersionSchema = Type.Object({
  id: Type.String(),
  modelId: Type.String(),
  version: Type.Integer(),
  parentVersionId: Type.Union([Type.String(), Type.Null()]),
  roundId: Type.Union([Type.String(), Type.Null()]),
  campaignId: Type.Union([Type.String(), Type.Null()]),
  source: Type.String({ description: 'init | import | round' }),
  format: Type.String(),
  encoding: EncodingSchema,
  quantization: encodingSchema({ description: 'deprecated: the same as `encoding`' }),
  sha256: Type.String(),
  sizeBytes: Type.Integer(),
  paramCount: Type.Integer(),
  metrics: Type.Record(Type.String(), Type.Unknown()),
  createdAt: Type.String({ format: 'date-time' }),
});

export const VersionDetailSchema = Type.Intersect([
  VersionSchema,
  Type.Object({
    lineage: Type.Array(Type.Object({ id: Type.String(), version: Type.Integer(), roundId: Type.Union([Type.String(), Type.Null()]) }), {
      description: 'ancestors, parent first',
    }),
    mcuFit: McuFitSchema,
  }),
]);

export const ModelDetailSchema = Type.Intersect([ModelSchema, Type.Object({ versions: Type.Array(VersionSchema) })]);

export const ModelCreateSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._-]+$' }),
    architecture: Type.String({ minLength: 1, description: 'built-in architecture: mnist-2nn, tiny-cnn' }),
    seed: Type.Integer({ minimum: 0, maximum: 4_294_967_295, default: 1, description: 'seed of the initial weights' }),
    description: Type.Optional(Type.String({ maxLength: 1000 })),
  },
  { additionalProperties: false },
);

export const ModelImportSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._-]+$' }),
    description: Type.Optional(Type.String({ maxLength: 1000 })),
    modelJson: Type.Record(Type.String(), Type.Unknown(), { description: 'the TensorFlow.js model.json' }),
    weightsBase64: Type.String({ description: 'the weight files of every manifest group, concatenated in order, base64' }),
  },
  { additionalProperties: false },
);

export const ModelCreatedSchema = Type.Object({ model: ModelSchema, version: VersionSchema });

export const ModelParamsSchema = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) });
export const VersionParamsSchema = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 128 }),
  version: Type.String({ minLength: 1, maxLength: 64, description: 'number, id or "latest"' }),
});
/** What `GET …/artifact` serves: the fedfleet ModelBlob, or a TensorFlow Lite flatbuffer for TFLite toolchains. */
export const ARTIFACT_FORMATS = ['blob', 'tflite'] as const;
export type ArtifactFormat = (typeof ARTIFACT_FORMATS)[number];

export const ArtifactQuerySchema = Type.Object({
  format: Type.Enum(ARTIFACT_FORMATS, {
    default: 'blob',
    description: 'blob: a fedfleet ModelBlob (protobuf); tflite: a TensorFlow Lite flatbuffer (encoding fp32 = the float model, ' +
      'int8 = the fully int8 model of the latest completed quantization; fp16 is not offered)',
  }),
  encoding: encodingSchema({ default: DEFAULT_ENCODING }),
});
