/** TypeBox schemas of the validation-set API. */
import Type from 'typebox';

export const DatasetSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Type.String(),
  inputShape: Type.Array(Type.Integer()),
  numClasses: Type.Integer(),
  examples: Type.Integer(),
  sha256: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
});

export const DatasetCreateSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' }),
    description: Type.Optional(Type.String({ maxLength: 1000 })),
    inputShape: Type.Array(Type.Integer({ minimum: 1, maximum: 1_048_576 }), { minItems: 1, maxItems: 8, description: 'shape of one example, e.g. [28, 28, 1]' }),
    numClasses: Type.Integer({ minimum: 2, maximum: 256 }),
    xBase64: Type.String({ description: 'examples × prod(inputShape) float32 values, little-endian, row-major, base64' }),
    yBase64: Type.String({ description: 'one label byte per example, base64' }),
  },
  { additionalProperties: false },
);

export const DatasetParamsSchema = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) });
