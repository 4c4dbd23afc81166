/** `POST /v1/enroll`: a device trades an enrollment token for its id and MQTT credentials (no admin token). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { errorResponses } from '../../http/error-schema.js';
import { EnrollRequestSchema, EnrollResponseSchema } from '../schemas.js';

export const enrollRoute: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/v1/enroll',
    {
      config: { public: true },
      schema: {
        tags: ['enrollment'],
        summary: 'Enroll a device with an enrollment token',
        description:
          'Returns the device id and its MQTT credentials (the password is shown only here), plus the hub public key. ' +
          'Unknown token: 401 HUB_ERR_TOKEN_INVALID; no uses left: 403 HUB_ERR_TOKEN_EXHAUSTED; expired: 410 HUB_ERR_TOKEN_EXPIRED.',
        security: [],
        body: EnrollRequestSchema,
        response: { 201: EnrollResponseSchema, ...errorResponses(400, 401, 403, 410) },
      },
    },
    async (request, reply) => {
      const enrolled = await app.fleet.enroll(request.body, { requestHost: request.headers.host });
      request.log.info({ deviceId: enrolled.deviceId, name: enrolled.name }, 'device enrolled');
      reply.status(201);
      return enrolled;
    },
  );
};
