/**
 * Admin authentication for the HTTP API, deny by default: every route needs `Authorization: Bearer <admin token>`
 * unless it is declared `config: { public: true }` (healthz, metrics, enroll, the API docs). Also loads the hub's
 * Ed25519 identity. Decorates `hub.adminToken` and `hub.identity`.
 */
import fp from 'fastify-plugin';
import type { FastifyRequest } from 'fastify';
import '../hub-context.js';
import '../store/store-plugin.js';
import { HubError } from '../errors.js';
import { loadOrCreateAdminToken, type AdminToken } from './admin-token.js';
import { loadOrCreateHubIdentity, type HubIdentity } from './hub-identity.js';

declare module 'fastify' {
  interface FastifyInstance {
    adminToken: AdminToken;
    identity: HubIdentity;
  }
}

/** Routes under this prefix (Swagger UI and the OpenAPI document) are public. */
export const DOCS_PREFIX = '/docs';

function presentedToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return match?.[1];
  }
  if (request.routeOptions.config.allowQueryToken) {
    const token = (request.query as { token?: unknown } | undefined)?.token;
    return typeof token === 'string' ? token : undefined;
  }
  return undefined;
}

export const authPlugin = fp(
  async (app) => {
    const adminToken = loadOrCreateAdminToken({
      dataDir: app.store.dataDir,
      settings: app.store.settings,
      configuredToken: app.config.adminToken,
    });
    if (adminToken.source === 'generated') {
      app.log.info({ path: adminToken.filePath }, 'admin token generated; it is in this file (mode 0600), only its hash is kept');
    } else {
      app.log.info({ source: adminToken.source, path: adminToken.filePath }, 'admin token loaded');
    }
    app.decorate('adminToken', adminToken);
    app.decorate('identity', loadOrCreateHubIdentity(app.store.dataDir));

    app.addHook('onRequest', async (request) => {
      if (request.is404 || request.routeOptions.config.public) return;
      const url = request.routeOptions.url ?? '';
      if (url === DOCS_PREFIX || url.startsWith(`${DOCS_PREFIX}/`)) return;
      if (!adminToken.verify(presentedToken(request))) {
        request.log.info({ method: request.method, url }, 'admin request refused');
        throw new HubError('HUB_ERR_UNAUTHORIZED');
      }
    });
  },
  { name: 'fedfleet-auth', fastify: '5.x', dependencies: ['fedfleet-store'] },
);
