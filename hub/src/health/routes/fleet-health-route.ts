/** `GET /v1/fleet/health`: devices by status, health, label and serving version, and the open alerts by rule. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { errorResponses } from '../../http/error-schema.js';
import { FleetHealthSummarySchema } from '../schemas.js';

export const fleetHealthRoute: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/v1/fleet/health',
    {
      schema: {
        tags: ['fleet'],
        summary: 'Fleet summary: devices by status, health, label and serving model version; open alerts by rule',
        response: { 200: FleetHealthSummarySchema, ...errorResponses(401) },
      },
    },
    async () => app.health.fleetHealth(),
  );
};
