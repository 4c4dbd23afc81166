/** The OpenAPI document, generated from the route schemas, at `/docs/json`, with Swagger UI at `/docs`. */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import fp from 'fastify-plugin';
import { DOCS_PREFIX } from '../auth/auth-plugin.js';
import { HUB_VERSION } from '../version.js';

export const openapiPlugin = fp(
  async (app) => {
    await app.register(swagger, {
      openapi: {
        openapi: '3.0.3',
        info: {
          title: 'fedfleet hub API',
          version: HUB_VERSION,
          description:
            'Fleet manager for edge / TinyML federated learning. Errors are `{ error: { code, message } }` with a stable ' +
            'HUB_ERR_* code. Every route needs `Authorization: Bearer <admin token>` unless marked otherwise.',
        },
        components: { securitySchemes: { adminToken: { type: 'http', scheme: 'bearer' } } },
        security: [{ adminToken: [] }],
      },
    });
    await app.register(swaggerUi, { routePrefix: DOCS_PREFIX });
  },
  { name: 'fedfleet-openapi', fastify: '5.x' },
);
