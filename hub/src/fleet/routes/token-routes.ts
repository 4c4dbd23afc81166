/** `/v1/enrollment-tokens`: create (the secret is shown once), list (no secrets), revoke. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { errorResponses } from '../../http/error-schema.js';
import type { EnrollmentToken } from '../enrollment-tokens.js';
import { CreatedTokenSchema, TokenCreateSchema, TokenIdParamsSchema, TokenSchema } from '../schemas.js';

export const tokenRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const toJson = (token: EnrollmentToken) => ({
    id: token.id,
    labels: token.labels,
    expiresAt: new Date(token.expiresAtMs).toISOString(),
    maxUses: token.maxUses,
    uses: token.uses,
    createdAt: new Date(token.createdAtMs).toISOString(),
    revoked: token.revokedAtMs !== null,
    expired: token.expiresAtMs <= app.clock.now(),
  });

  app.post(
    '/v1/enrollment-tokens',
    {
      schema: {
        tags: ['enrollment'],
        summary: 'Create an enrollment token (the token is returned only here)',
        body: TokenCreateSchema,
        response: { 201: CreatedTokenSchema, ...errorResponses(400, 401) },
      },
    },
    async (request, reply) => {
      const created = app.fleet.createToken(
        { labels: request.body.labels ?? {}, ttlSec: request.body.ttlSec, maxUses: request.body.maxUses },
        'admin',
      );
      reply.status(201);
      return {
        id: created.id,
        token: created.token,
        labels: created.labels,
        expiresAt: new Date(created.expiresAtMs).toISOString(),
        maxUses: created.maxUses,
      };
    },
  );

  app.get(
    '/v1/enrollment-tokens',
    {
      schema: {
        tags: ['enrollment'],
        summary: 'List enrollment tokens (without their secrets)',
        response: { 200: Type.Array(TokenSchema), ...errorResponses(401) },
      },
    },
    async () => app.fleet.tokens.list().map(toJson),
  );

  app.delete(
    '/v1/enrollment-tokens/:id',
    {
      schema: {
        tags: ['enrollment'],
        summary: 'Revoke an enrollment token (devices it enrolled stay enrolled)',
        params: TokenIdParamsSchema,
        response: { 200: TokenSchema, ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => toJson(app.fleet.revokeToken(request.params.id, 'admin')),
  );
};
