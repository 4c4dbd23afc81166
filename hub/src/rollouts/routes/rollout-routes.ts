/** `/v1/rollouts`: create, list and show rollouts; pause, resume and abort one. Operator actions are audit-logged. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { errorResponses } from '../../http/error-schema.js';
import { RolloutRequestSchema } from '../rollout-request.js';
import { RolloutActionSchema, RolloutDetailSchema, RolloutListQuerySchema, RolloutParamsSchema, RolloutSchema } from '../schemas.js';

export const rolloutRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/v1/rollouts', {
    schema: {
      tags: ['rollouts'],
      summary: 'Roll a model version out to the devices matching a selector, in waves gated on each device\'s self-test',
      body: RolloutRequestSchema, response: { 201: RolloutDetailSchema, ...errorResponses(400, 401, 404, 409, 422) },
    },
  }, async (request, reply) => {
    const rollout = await app.rollouts.create(request.body);
    reply.status(201);
    return app.rollouts.detail(rollout.id);
  });

  app.get('/v1/rollouts', {
    schema: {
      tags: ['rollouts'], summary: 'Rollouts, newest first, with per-wave counts',
      querystring: RolloutListQuerySchema, response: { 200: Type.Array(RolloutSchema), ...errorResponses(401) },
    },
  }, async (request) => app.rollouts.list(request.query));

  app.get('/v1/rollouts/:id', {
    schema: {
      tags: ['rollouts'], summary: 'A rollout: its waves and every device target with its state, self-test and reason',
      params: RolloutParamsSchema, response: { 200: RolloutDetailSchema, ...errorResponses(401, 404) },
    },
  }, async (request) => app.rollouts.detail(request.params.id));

  const actions = {
    pause: 'Stop sending new commands (commands already out finish)',
    resume: 'Continue a paused rollout',
    abort: 'Abort: every device the rollout changed goes back to its previous version',
  } as const;
  for (const [action, summary] of Object.entries(actions) as [keyof typeof actions, string][]) {
    app.post(`/v1/rollouts/:id/${action}`, {
      schema: {
        tags: ['rollouts'], summary, params: RolloutParamsSchema, body: RolloutActionSchema,
        response: { 200: RolloutDetailSchema, ...errorResponses(401, 404, 409) },
      },
      // The body is optional: none reads as `{}`.
      preValidation: async (request) => {
        request.body ??= {};
      },
    }, async (request) => {
      const { id } = request.params;
      const reason = request.body?.reason;
      if (action === 'pause') app.rollouts.pause(id, 'admin', reason);
      else if (action === 'resume') app.rollouts.resume(id, 'admin', reason);
      else app.rollouts.abort(id, 'admin', reason ?? 'aborted by an operator');
      return app.rollouts.detail(id);
    });
  }
};
