/** Decorates `hub.audit` and serves `GET /v1/audit` (newest first). */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import fp from 'fastify-plugin';
import Type from 'typebox';
import '../hub-context.js';
import '../store/store-plugin.js';
import { errorResponses } from '../http/error-schema.js';
import { createAuditLog, type AuditLog } from './audit-log.js';

declare module 'fastify' {
  interface FastifyInstance {
    audit: AuditLog;
  }
}

export const AuditEntrySchema = Type.Object({
  id: Type.Integer(),
  at: Type.String({ format: 'date-time' }),
  actor: Type.String(),
  action: Type.String(),
  target: Type.Union([Type.String(), Type.Null()]),
  details: Type.Record(Type.String(), Type.Unknown()),
});

export const auditPlugin = fp(
  async (app) => {
    const audit = createAuditLog(app.store.db, app.clock);
    app.decorate('audit', audit);
    app.withTypeProvider<TypeBoxTypeProvider>().get(
      '/v1/audit',
      {
        schema: {
          tags: ['audit'],
          summary: 'Audit log of operator actions, newest first',
          querystring: Type.Object({
            limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
            beforeId: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'entries older than this id (paging)' })),
            action: Type.Optional(Type.String({ maxLength: 100 })),
            target: Type.Optional(Type.String({ maxLength: 200 })),
          }),
          response: { 200: Type.Array(AuditEntrySchema), ...errorResponses(400, 401) },
        },
      },
      async (request) =>
        audit.list(request.query).map(({ atMs, ...entry }) => ({ ...entry, at: new Date(atMs).toISOString() })),
    );
  },
  { name: 'fedfleet-audit', fastify: '5.x', dependencies: ['fedfleet-store'] },
);
