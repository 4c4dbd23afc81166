/** `GET /v1/models/:id/versions/:version/bundle`: a version as one signed bundle file (proto/docs/bundles.md). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { errorResponses } from '../../http/error-schema.js';
import { sha256Hex } from '../../store/blobs.js';
import { BUNDLE_FORMATS } from '@fedfleet/proto';
import { BUNDLE_MEDIA_TYPE, bundleFileName } from '../bundle-builder.js';
import { encodingSchema } from '../encoding-schema.js';
import { VersionParamsSchema } from '../schemas.js';

export const BundleQuerySchema = Type.Object({
  format: Type.Enum(BUNDLE_FORMATS, {
    default: 'tfjs-layers',
    description: 'tfjs-layers: a fedfleet ModelBlob run with TensorFlow.js (agents); tflite: the int8 .tflite of the latest ' +
      'completed quantization, run with the integer-only kernels (agents and microcontrollers)',
  }),
  encoding: Type.Optional(encodingSchema({ description: 'fp32 | fp16 | int8; default fp32 for tfjs-layers, int8 for tflite (its only encoding)' })),
}, { additionalProperties: false });

export const bundleRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/v1/models/:id/versions/:version/bundle', {
    schema: {
      tags: ['models'],
      summary: 'Download a version as a signed bundle: canonical manifest, Ed25519 signature, payload (tflite int8 or tfjs-layers)',
      params: VersionParamsSchema, querystring: BundleQuerySchema,
      response: { 200: Type.Unsafe<Buffer>({ type: 'string', format: 'binary' }), ...errorResponses(400, 401, 404, 409, 422) },
    },
  }, async (request, reply) => {
    const { format } = request.query;
    // tflite bundles carry the int8 model, so that is what an unspecified encoding means for them.
    const encoding = request.query.encoding ?? (format === 'tflite' ? 'int8' : 'fp32');
    const version = app.models.resolveVersion(request.params.id, request.params.version);
    const bytes = await app.bundles.file(version.id, { format, encoding });
    const fileName = bundleFileName(app.models.getModel(version.modelId).name, version.version, { format, encoding });
    const body = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    reply.header('content-type', BUNDLE_MEDIA_TYPE).header('content-disposition', `attachment; filename="${fileName}"`)
      .header('x-sha256', sha256Hex(body));
    return body;
  });
};
