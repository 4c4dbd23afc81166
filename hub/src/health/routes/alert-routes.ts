/** `/v1/alerts`: list alerts, acknowledge one (audited, idempotent). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { errorResponses } from '../../http/error-schema.js';
import { AlertListQuerySchema, AlertListSchema, AlertParamsSchema, AlertSchema } from '../schemas.js';

export const alertRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/v1/alerts', {
    schema: {
      tags: ['health'], summary: 'Alerts, newest first, filtered by state, rule and device',
      querystring: AlertListQuerySchema, response: { 200: AlertListSchema, ...errorResponses(400, 401) },
    },
  }, async (request) => ({ alerts: app.health.alerts.list(request.query) }));

  app.post('/v1/alerts/:id/ack', {
    schema: {
      tags: ['health'],
      summary: 'Acknowledge an alert',
      description: 'Idempotent. A device alert stays open until its condition clears; a rollout or campaign alert is resolved by it (hub/docs/health.md#acknowledging).',
      params: AlertParamsSchema, response: { 200: AlertSchema, ...errorResponses(400, 401, 404) },
    },
  }, async (request) => app.health.alerts.acknowledge(request.params.id, 'admin'));
};
