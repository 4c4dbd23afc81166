/** `/v1/datasets`: validation sets for hub-side evaluation of every committed version. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { errorResponses } from '../../http/error-schema.js';
import { DatasetCreateSchema, DatasetParamsSchema, DatasetSchema } from '../schemas.js';

/** Largest accepted upload (base64 JSON): about 90 MiB of examples. */
const UPLOAD_BODY_LIMIT_BYTES = 128 * 1024 * 1024;

export const datasetRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { datasets, audit } = app;

  app.get('/v1/datasets', {
    schema: { tags: ['datasets'], summary: 'List validation sets', response: { 200: Type.Array(DatasetSchema), ...errorResponses(401) } },
  }, async () => datasets.list());

  app.post('/v1/datasets', {
    bodyLimit: UPLOAD_BODY_LIMIT_BYTES,
    schema: {
      tags: ['datasets'], summary: 'Upload a validation set (float32 features and byte labels, base64)',
      body: DatasetCreateSchema, response: { 201: DatasetSchema, ...errorResponses(400, 401, 409, 413) },
    },
  }, async (request, reply) => {
    const { name, description, inputShape, numClasses, xBase64, yBase64 } = request.body;
    const created = datasets.create({
      name, description, inputShape, numClasses, x: Buffer.from(xBase64, 'base64'), y: Buffer.from(yBase64, 'base64'),
    });
    audit.record({ actor: 'admin', action: 'dataset.created', target: created.id, details: { name, examples: created.examples } });
    reply.status(201);
    return created;
  });

  app.get('/v1/datasets/:id', {
    schema: { tags: ['datasets'], summary: 'Show a validation set', params: DatasetParamsSchema, response: { 200: DatasetSchema, ...errorResponses(401, 404) } },
  }, async (request) => datasets.get(request.params.id));
};
