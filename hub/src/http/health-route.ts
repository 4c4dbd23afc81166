/** `GET /healthz`: liveness of the hub process itself (no auth). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { HUB_VERSION } from '../version.js';

export const healthRoute: FastifyPluginAsyncTypebox = async (app) => {
  const startedAtMs = app.clock.now();
  app.get(
    '/healthz',
    {
      config: { public: true },
      schema: {
        tags: ['health'],
        summary: 'Hub liveness',
        security: [],
        response: {
          200: Type.Object({ ok: Type.Literal(true), version: Type.String(), uptimeSec: Type.Number() }),
        },
      },
    },
    async () => ({ ok: true as const, version: HUB_VERSION, uptimeSec: Math.floor((app.clock.now() - startedAtMs) / 1000) }),
  );
};
