/** `GET /v1/devices/:id/quality`: a device's accuracy samples and baseline per version, and its latest input drift. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { HubError } from '../../errors.js';
import { DeviceIdParamsSchema } from '../../fleet/schemas.js';
import { errorResponses } from '../../http/error-schema.js';
import { DeviceQualitySchema } from '../schemas.js';

export const qualityRoute: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/v1/devices/:id/quality',
    {
      schema: {
        tags: ['devices'],
        summary: "A device's model quality and input drift",
        description: 'See hub/docs/quality.md for the sources, the baseline rule and the drift measures.',
        params: DeviceIdParamsSchema,
        response: { 200: DeviceQualitySchema, ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => {
      const { id } = request.params;
      if (!app.fleet.devices.exists(id)) throw new HubError('HUB_ERR_DEVICE_NOT_FOUND', { message: `no device ${id}` });
      return app.quality.deviceQuality(id);
    },
  );
};
