/** `/v1/rounds`: start, list, show and cancel federated campaigns; `/v1/update-rejections`: per-device counts. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { errorResponses } from '../../http/error-schema.js';
import { modelForCampaign } from '../../models/builtin-model.js';
import { CampaignRequestSchema } from '../campaign-config.js';
import { campaignSummaryView, campaignView } from '../round-views.js';
import { CampaignDetailSchema, CampaignListQuerySchema, CampaignParamsSchema, CampaignSchema, RejectionCountSchema } from '../schemas.js';

export const roundRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const view = (id: string) => campaignView(app.coordinator.requireCampaign(id), app.coordinator.rounds, app.fleet.devices, app.models);

  app.post('/v1/rounds', {
    schema: {
      tags: ['rounds'], summary: 'Start a federated campaign of N rounds', body: CampaignRequestSchema,
      response: { 201: CampaignDetailSchema, ...errorResponses(400, 401, 404) },
    },
  }, async (request, reply) => {
    // A built-in architecture's name stands for a model of that architecture, created on first use — only for a
    // request that is otherwise valid, so a refused campaign leaves nothing behind.
    app.coordinator.checkCampaign(request.body);
    const { baseVersion } = request.body;
    if (baseVersion === undefined || baseVersion === 'latest') {
      await modelForCampaign(app.models, app.audit, request.body.model, request.body.seed ?? 1);
    }
    const campaign = app.coordinator.startCampaign(request.body);
    app.audit.record({ actor: 'admin', action: 'campaign.started', target: campaign.id, details: { ...request.body } });
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
