/** `/v1/rounds`: start, list, show and cancel federated campaigns; `/v1/update-rejections`: per-device counts. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { paramCount } from '@fedfleet/proto';
import { errorResponses } from '../../http/error-schema.js';
import { ARCHITECTURES, createInitialModel, type Architecture } from '../../models/architectures.js';
import { modelForCampaign } from '../../models/builtin-model.js';
import { CampaignRequestSchema } from '../campaign-config.js';
import { checkValidationSetFits } from '../campaign-request.js';
import { campaignSummaryView, campaignView } from '../round-views.js';
import { CampaignDetailSchema, CampaignListQuerySchema, CampaignParamsSchema, CampaignSchema, RejectionCountSchema } from '../schemas.js';

export const roundRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const view = (id: string) => campaignView(app.coordinator.requireCampaign(id), app.coordinator.rounds, app.fleet.devices, app.models);

  app.post('/v1/rounds', {
    schema: {
      tags: ['rounds'], summary: 'Start a federated campaign of N rounds', body: CampaignRequestSchema,
      response: { 201: CampaignDetailSchema, ...errorResponses(400, 401, 404, 422) },
    },
  }, async (request, reply) => {
    // A refused request stores nothing (DESIGN §9). A built-in architecture's name stands for a model of that
    // architecture, created on first use — only for a request that is otherwise valid, the validation set and the
    // fleet's capacity included.
    const { minClients } = app.coordinator.checkCampaign(request.body);
    await app.coordinator.checkQuantize(request.body);
    const { baseVersion, model, validationSet, selector } = request.body;
    const existing = app.models.findModel(model);
    const toCreate = existing || (baseVersion !== undefined && baseVersion !== 'latest') ? undefined : builtinArchitecture(model);
    if (toCreate && validationSet !== undefined) {
      checkValidationSetFits(app.datasets.get(validationSet), { label: `architecture ${toCreate.id}`, inputShape: toCreate.inputShape, numClasses: toCreate.numClasses });
    }
    const params = existing?.paramCount ?? (toCreate ? architectureParamCount(toCreate) : undefined);
    if (params !== undefined) app.coordinator.checkCapacity(selector, minClients, params);
    if (toCreate) await modelForCampaign(app.models, app.audit, model, request.body.seed ?? 1);
    // One transaction: should anything after the campaign row throw (its first round, the audit entry), nothing stays.
    const campaign = app.store.transaction(() => {
      const started = app.coordinator.startCampaign(request.body);
      app.audit.record({ actor: 'admin', action: 'campaign.started', target: started.id, details: { ...request.body } });
      return started;
    });
    reply.status(201);
    return view(campaign.id);
  });

  app.get('/v1/rounds', {
    schema: {
      tags: ['rounds'], summary: 'List campaigns, newest first', querystring: CampaignListQuerySchema,
      response: { 200: Type.Array(CampaignSchema), ...errorResponses(401) },
    },
  }, async (request) => {
    const { state, limit } = request.query;
    return app.coordinator.rounds
      .listCampaigns(limit)
      .filter((c) => !state || c.state === state)
      .map((c) => campaignSummaryView(c, app.coordinator.rounds, app.fleet.devices, app.models));
  });

  app.get('/v1/rounds/:id', {
    schema: {
      tags: ['rounds'], summary: 'Show a campaign: state, rounds, participants, accuracy and loss per round, bytes, rejected updates',
      params: CampaignParamsSchema, response: { 200: CampaignDetailSchema, ...errorResponses(401, 404) },
    },
  }, async (request) => view(request.params.id));

  app.post('/v1/rounds/:id/cancel', {
    schema: {
      tags: ['rounds'], summary: 'Cancel a running campaign (its current round fails; devices are told to stop)',
      params: CampaignParamsSchema, response: { 200: CampaignDetailSchema, ...errorResponses(401, 404, 409) },
    },
  }, async (request) => {
    app.coordinator.cancelCampaign(request.params.id);
    app.audit.record({ actor: 'admin', action: 'campaign.cancelled', target: request.params.id });
    return view(request.params.id);
  });

  app.get('/v1/update-rejections', {
    schema: {
      tags: ['rounds'], summary: 'Rejected updates counted per device and code',
      response: { 200: Type.Array(RejectionCountSchema), ...errorResponses(401) },
    },
  }, async () => app.coordinator.rounds.rejectionsByDevice());
};

const builtinArchitecture = (name: string): Architecture | undefined => (Object.hasOwn(ARCHITECTURES, name) ? ARCHITECTURES[name] : undefined);

const paramCounts = new Map<string, number>();

/** Parameters of a built-in architecture (the same for every seed): built once per process, to check before creating. */
function architectureParamCount(arch: Architecture): number {
  let count = paramCounts.get(arch.id);
  if (count === undefined) paramCounts.set(arch.id, (count = paramCount(createInitialModel(arch.id, 0).weights)));
  return count;
}
