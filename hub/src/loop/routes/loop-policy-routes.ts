/** `/v1/loop-policies`: create, list, show, change and delete closed-loop policies, and read what each did (hub/docs/loop.md). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { errorResponses } from '../../http/error-schema.js';
import { DEFAULT_ACTION_LIMIT } from '../loop-policies.js';
import {
  LoopActionListSchema, LoopParamsSchema, LoopPolicyPatchSchema, LoopPolicyRequestSchema, LoopPolicySchema,
  type LoopPolicyPatch, type LoopPolicyRequest,
} from '../loop-schemas.js';

const ActionsQuerySchema = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: DEFAULT_ACTION_LIMIT, description: 'most actions returned, newest first' }),
}, { additionalProperties: false });

export const loopPolicyRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const policies = () => app.loop.policies;

  app.post('/v1/loop-policies', {
    schema: {
      tags: ['loop'], summary: 'Create a closed-loop policy: drift alerts on a group → federated campaign → canary rollout',
      body: LoopPolicyRequestSchema, response: { 201: LoopPolicySchema, ...errorResponses(400, 401, 404, 409) },
    },
  }, async (request, reply) => {
    const policy = policies().create(request.body as LoopPolicyRequest);
    reply.status(201);
    return policies().toJson(policy);
  });

  app.get('/v1/loop-policies', {
    schema: { tags: ['loop'], summary: 'List loop policies, oldest first', response: { 200: Type.Array(LoopPolicySchema), ...errorResponses(401) } },
  }, async () => policies().list().map((p) => policies().toJson(p)));

  app.get('/v1/loop-policies/:id', {
    schema: { tags: ['loop'], summary: 'Show a loop policy and what it runs now', params: LoopParamsSchema, response: { 200: LoopPolicySchema, ...errorResponses(401, 404) } },
  }, async (request) => policies().toJson(policies().require(request.params.id)));

  app.patch('/v1/loop-policies/:id', {
    schema: {
      tags: ['loop'], summary: 'Change a loop policy (fields given replace the stored ones; trigger, campaign and canary whole)',
      params: LoopParamsSchema, body: LoopPolicyPatchSchema, response: { 200: LoopPolicySchema, ...errorResponses(400, 401, 404, 409) },
    },
  }, async (request) => policies().toJson(policies().update(request.params.id, request.body as LoopPolicyPatch)));

  app.delete('/v1/loop-policies/:id', {
    schema: {
      tags: ['loop'], summary: 'Delete a loop policy and its history (a campaign or rollout it started runs on)',
      params: LoopParamsSchema, response: { 204: Type.Null(), ...errorResponses(401, 404) },
    },
  }, async (request, reply) => {
    policies().remove(request.params.id);
    reply.status(204);
    return null;
  });

  app.get('/v1/loop-policies/:id/actions', {
    schema: {
      tags: ['loop'], summary: 'What a loop policy did and why, newest first',
      params: LoopParamsSchema, querystring: ActionsQuerySchema, response: { 200: LoopActionListSchema, ...errorResponses(400, 401, 404) },
    },
  }, async (request) => ({ actions: policies().actions(request.params.id, request.query.limit).map((a) => policies().actionJson(a)) }));
};
