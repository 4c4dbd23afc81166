/** The OpenAPI document, generated from the route schemas, at `/docs/json`, with Swagger UI at `/docs`. */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import fp from 'fastify-plugin';
import { DOCS_PREFIX } from '../auth/auth-plugin.js';
import { HUB_VERSION } from '../version.js';

/**
 * The Content-Security-Policy of every page and file under /docs (Swagger UI). Scripts only from its own files; styles
 * may be inline, because Swagger UI inserts a <style> element as it renders (the one thing it would otherwise break).
 */
export const DOCS_CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; " +
  "base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

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
    // Swagger UI shares the dashboard's origin, where the admin token lives in localStorage: its pages run only its
    // own script files (no inline script), fetch no validator badge from swagger.io, and cannot be framed.
    await app.register(swaggerUi, { routePrefix: DOCS_PREFIX, staticCSP: DOCS_CSP, uiConfig: { validatorUrl: null } });
  },
  { name: 'fedfleet-openapi', fastify: '5.x' },
);
