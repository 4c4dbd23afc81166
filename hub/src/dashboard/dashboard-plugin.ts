/**
 * The web dashboard (DESIGN §7, hub/docs/dashboard.md): `GET /` answers its one HTML shell, `GET /dashboard/<file>`
 * its stylesheets and ES modules, and `GET /dashboard/vendor/<file>` the chart library (uPlot) straight from the
 * hub's node_modules — nothing to build, nothing fetched from elsewhere at run time. Public: these are static files;
 * every datum the pages show comes from the admin-token API. The Content-Security-Policy allows only the hub's own
 * origin (no inline script, no CDN).
 */
import fp from 'fastify-plugin';
import type { FastifyReply, FastifyRequest } from 'fastify';
import Type from 'typebox';
import '../hub-context.js';
import { HubError } from '../errors.js';
import { loadDashboardAssets, type DashboardAsset } from './dashboard-assets.js';

/** Only the hub's origin: scripts, styles, images and the API/event stream (connect-src) alike. */
export const DASHBOARD_CSP = [
  "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
  "object-src 'none'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
].join('; ');

const hidden = { hide: true, tags: ['dashboard'] };

function send(asset: DashboardAsset, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  reply
    .header('content-security-policy', DASHBOARD_CSP)
    .header('x-content-type-options', 'nosniff')
    // frame-ancestors 'none' for browsers without CSP level 2: no page of another site can frame (and overlay) ours.
    .header('x-frame-options', 'DENY')
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', asset.cacheControl)
    .header('etag', asset.etag)
    .type(asset.contentType);
  // A revalidating browser gets 304 for a file it already holds (RFC 9110 §13.1.2).
  if (request.headers['if-none-match'] === asset.etag) return reply.status(304).send();
  return reply.send(asset.body);
}

export const dashboardPlugin = fp(
  async (app) => {
    const assets = loadDashboardAssets();
    const index = assets.get('index.html');
    if (!index) throw new Error('dashboard: index.html is missing from the installed hub');

    app.get('/', { config: { public: true }, schema: hidden }, (request, reply) => send(index, request, reply));
    app.get(
      '/dashboard/*',
      { config: { public: true }, schema: { ...hidden, params: Type.Object({ '*': Type.String({ maxLength: 200 }) }) } },
      (request, reply) => {
        const name = (request.params as { '*': string })['*'];
        // Only files in the table answer: a name is looked up, never joined onto a path (no traversal).
        const asset = assets.get(name);
        if (!asset) throw new HubError('HUB_ERR_NOT_FOUND', { message: `no dashboard file ${name}` });
        return send(asset, request, reply);
      },
    );
  },
  { name: 'fedfleet-dashboard', fastify: '5.x', dependencies: ['fedfleet-auth'] },
);
