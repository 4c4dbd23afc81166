/** `/v1/models`: built-in architectures, TensorFlow.js imports, versions with lineage, artifacts. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { HubError } from '../../errors.js';
import { errorResponses } from '../../http/error-schema.js';
import { createBuiltinModel } from '../builtin-model.js';
import { importTfjsLayersModel } from '../import-tfjs.js';
import { mcuFitView } from '../mcu-fit-view.js';
import {
  ArtifactQuerySchema, ModelCreateSchema, ModelCreatedSchema, ModelDetailSchema, ModelImportSchema, ModelParamsSchema,
  ModelSchema, VersionDetailSchema, VersionParamsSchema, VersionSchema,
} from '../schemas.js';
import type { TfliteExporter } from '../tflite-export.js';

/** Largest accepted import (model.json + base64 weights). */
const IMPORT_BODY_LIMIT_BYTES = 64 * 1024 * 1024;

export interface ModelRoutesOptions {
  /** The models plugin's one exporter (the bundle builder uses it too), for `format=tflite` downloads. */
  tflite: Pick<TfliteExporter, 'export'>;
}

export const modelRoutes: FastifyPluginAsyncTypebox<ModelRoutesOptions> = async (app, { tflite }) => {
  const { models, audit } = app;

  app.get('/v1/models', {
    schema: { tags: ['models'], summary: 'List models', response: { 200: Type.Array(ModelSchema), ...errorResponses(401) } },
  }, async () => models.listModels());

  app.post('/v1/models', {
    schema: {
      tags: ['models'], summary: 'Create a model from a built-in architecture (version 1 = seeded initial weights)',
      body: ModelCreateSchema, response: { 201: ModelCreatedSchema, ...errorResponses(400, 401, 409) },
    },
  }, async (request, reply) => {
    const { name, architecture, seed, description } = request.body;
    const created = await createBuiltinModel(models, audit, { name, architecture, seed, description });
    reply.status(201);
    return created;
  });

  app.post('/v1/models/import', {
    bodyLimit: IMPORT_BODY_LIMIT_BYTES,
    schema: {
      tags: ['models'], summary: 'Import a TensorFlow.js layers model (model.json + float32 weights)',
      body: ModelImportSchema, response: { 201: ModelCreatedSchema, ...errorResponses(400, 401, 409, 413) },
    },
  }, async (request, reply) => {
    const { name, description, modelJson, weightsBase64 } = request.body;
    const imported = await importTfjsLayersModel(modelJson, Buffer.from(weightsBase64, 'base64'));
    const created = await models.create({
      name, architecture: 'imported', description: description ?? '', inputShape: imported.inputShape,
      numClasses: imported.numClasses, content: imported, source: 'import',
    });
    audit.record({ actor: 'admin', action: 'model.imported', target: created.model.id, details: { name, params: created.model.paramCount } });
    reply.status(201);
    return created;
  });

  app.get('/v1/models/:id', {
    schema: { tags: ['models'], summary: 'Show a model with its versions', params: ModelParamsSchema, response: { 200: ModelDetailSchema, ...errorResponses(401, 404) } },
  }, async (request) => {
    const model = models.getModel(request.params.id);
    return { ...model, versions: models.listVersions(model.id) };
  });

  app.get('/v1/models/:id/versions', {
    schema: { tags: ['models'], summary: 'List versions', params: ModelParamsSchema, response: { 200: Type.Array(VersionSchema), ...errorResponses(401, 404) } },
  }, async (request) => models.listVersions(models.getModel(request.params.id).id));

  app.get('/v1/models/:id/versions/:version', {
    schema: {
      tags: ['models'], summary: 'Show a version with its lineage (metrics, producing round, parent chain) and its microcontroller fit',
      params: VersionParamsSchema, response: { 200: VersionDetailSchema, ...errorResponses(401, 404) },
    },
  }, async (request) => {
    const version = models.resolveVersion(request.params.id, request.params.version);
    const lineage = [];
    for (let parent = version.parentVersionId; parent; ) {
      const p = models.getVersion(parent);
      lineage.push({ id: p.id, version: p.version, roundId: p.roundId });
      parent = p.parentVersionId;
    }
    const { topologyJson } = await models.loadContent(version.id);
    return { ...version, lineage, mcuFit: mcuFitView(topologyJson) };
  });

  app.get('/v1/models/:id/versions/:version/artifact', {
    schema: {
      tags: ['models'],
      summary: 'Download a version: a fedfleet ModelBlob (protobuf: topology + weights) or a TensorFlow Lite flatbuffer (float or int8)',
      params: VersionParamsSchema, querystring: ArtifactQuerySchema,
      response: { 200: Type.Unsafe<Buffer>({ type: 'string', format: 'binary' }), ...errorResponses(400, 401, 404, 409, 422) },
    },
  }, async (request, reply) => {
    const { format, encoding } = request.query;
    const version = models.resolveVersion(request.params.id, request.params.version);
    let artifact: { sha256: string };
    if (format === 'tflite') {
      const exported = await tflite.export(version, models.getModel(version.modelId).name, encoding);
      reply.header('content-disposition', `attachment; filename="${exported.fileName}"`);
      artifact = exported;
    } else {
      artifact = await models.downlinkArtifact(version.id, encoding);
    }
    const bytes = await app.store.blobs.get(artifact.sha256);
    if (!bytes) throw new HubError('HUB_ERR_ARTIFACT_NOT_FOUND', { message: `artifact ${artifact.sha256} of version ${version.id} is missing` });
    reply.header('content-type', 'application/octet-stream').header('x-sha256', artifact.sha256);
    return bytes;
  });
};
