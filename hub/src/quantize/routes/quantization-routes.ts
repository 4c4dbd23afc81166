/** Quantization jobs over HTTP: start one for a model version, list a version's jobs, show one with its devices. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { errorResponses } from '../../http/error-schema.js';
import { VersionParamsSchema } from '../../models/schemas.js';
import { QuantizationRequestSchema } from '../quantization-request.js';
import { QuantizationDetailSchema, QuantizationParamsSchema, QuantizationSchema } from '../schemas.js';

export const quantizationRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const detail = (id: string) => ({ ...app.quantizations.get(id), devices: app.quantizations.devices(id), evalDevices: app.quantizations.evalDevices(id) });

  app.post('/v1/models/:id/versions/:version/quantizations', {
    schema: {
      tags: ['quantization'],
      summary: 'Quantize a version to a fully int8 .tflite, its activations calibrated on the fleet or on an uploaded data set',
      params: VersionParamsSchema, body: QuantizationRequestSchema,
      response: { 202: QuantizationDetailSchema, ...errorResponses(400, 401, 404, 409, 422) },
    },
  }, async (request, reply) => {
    const job = await app.quantizations.start({ ...request.body, model: request.params.id, version: request.params.version });
    reply.status(202);
    return detail(job.id);
  });

  app.get('/v1/models/:id/versions/:version/quantizations', {
    schema: {
      tags: ['quantization'], summary: 'Quantization jobs of a version, newest first',
      params: VersionParamsSchema, response: { 200: Type.Array(QuantizationSchema), ...errorResponses(401, 404) },
    },
  }, async (request) => app.quantizations.listForVersion(app.models.resolveVersion(request.params.id, request.params.version).id));

  app.get('/v1/quantizations/:id', {
    schema: {
      tags: ['quantization'],
      summary: 'A quantization job: state, progress, ranges, artifact, fleet evaluation, and what each device asked to calibrate or evaluate answered',
      params: QuantizationParamsSchema, response: { 200: QuantizationDetailSchema, ...errorResponses(401, 404) },
    },
  }, async (request) => detail(request.params.id));
};
