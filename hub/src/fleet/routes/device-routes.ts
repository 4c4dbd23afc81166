/** `/v1/devices`: list with label selectors, show, relabel/rename, revoke, telemetry history. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { errorResponses } from '../../http/error-schema.js';
import { parseSelector } from '../label-selector.js';
import {
  DeviceIdParamsSchema,
  DeviceListQuerySchema,
  DevicePatchSchema,
  DeviceSchema,
  TelemetryHistoryQuerySchema,
  TelemetrySeriesSchema,
} from '../schemas.js';

export const deviceRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/v1/devices',
    {
      schema: {
        tags: ['devices'],
        summary: 'List devices',
        description: 'Ordered by enrollment time. The total count before limit/offset is in the X-Total-Count header.',
        querystring: DeviceListQuerySchema,
        response: { 200: Type.Array(DeviceSchema), ...errorResponses(400, 401) },
      },
    },
    async (request, reply) => {
      const { selector, status, health, limit, offset } = request.query;
      const result = app.fleet.listDevices({ selector: parseSelector(selector ?? ''), status, health, limit, offset });
      reply.header('x-total-count', String(result.total));
      return result.devices;
    },
  );

  app.get(
    '/v1/devices/:id',
    {
      schema: {
        tags: ['devices'],
        summary: 'Show one device',
        params: DeviceIdParamsSchema,
        response: { 200: DeviceSchema, ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => app.fleet.getDevice(request.params.id),
  );

  app.patch(
    '/v1/devices/:id',
    {
      schema: {
        tags: ['devices'],
        summary: 'Rename a device or change its labels',
        params: DeviceIdParamsSchema,
        body: DevicePatchSchema,
        response: { 200: DeviceSchema, ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => app.fleet.updateDevice(request.params.id, request.body, 'admin'),
  );

  app.delete(
    '/v1/devices/:id',
    {
      schema: {
        tags: ['devices'],
        summary: 'Revoke a device',
        description: 'Deletes its credentials, disconnects its MQTT session at once and clears its retained status.',
        params: DeviceIdParamsSchema,
        response: { 204: Type.Null(), ...errorResponses(400, 401, 404) },
      },
    },
    async (request, reply) => {
      await app.fleet.revokeDevice(request.params.id, 'admin');
      request.log.info({ deviceId: request.params.id }, 'device revoked');
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/v1/devices/:id/telemetry',
    {
      schema: {
        tags: ['devices'],
        summary: 'One metric of one device over time: raw samples, minute or hour rollups by the range and step',
        description: 'See hub/docs/http-api.md#telemetry-history for how the resolution is chosen and the bounds.',
        params: DeviceIdParamsSchema,
        querystring: TelemetryHistoryQuerySchema,
        response: { 200: TelemetrySeriesSchema, ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => {
      app.fleet.getDevice(request.params.id);
      return app.fleet.telemetry.query(request.params.id, request.query);
    },
  );
};
