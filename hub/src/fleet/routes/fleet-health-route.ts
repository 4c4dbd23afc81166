/** `GET /v1/fleet/health`: device counts by status and by label. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { errorResponses } from '../../http/error-schema.js';
import { FleetHealthSchema } from '../schemas.js';

export const fleetHealthRoute: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/v1/fleet/health',
    {
      schema: {
        tags: ['fleet'],
        summary: 'Fleet summary: devices by status and by label',
        response: { 200: FleetHealthSchema, ...errorResponses(401) },
      },
    },
    async () => app.fleet.health(),
  );
};
