/**
 * `POST /v1/enroll`: a device trades an enrollment token for its id and MQTT credentials (no admin token). Limited
 * per client address (enrollment-rate-limit.ts): beyond the limits, 429 HUB_ERR_RATE_LIMITED with `Retry-After`.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { createLogThrottle } from '../../limits/log-throttle.js';
import { HubError } from '../../errors.js';
import { errorResponses } from '../../http/error-schema.js';
import { createEnrollmentRateLimit } from '../enrollment-rate-limit.js';
import { EnrollRequestSchema, EnrollResponseSchema } from '../schemas.js';

/** At most one warning per limit per minute during a flood; the metric counts every refusal. */
const RATE_LIMIT_LOG_INTERVAL_MS = 60_000;

export const enrollRoute: FastifyPluginAsyncTypebox = async (app) => {
  const { config, clock, metrics } = app;
  const limits = createEnrollmentRateLimit({ requestsPerMin: config.enrollRatePerMin, failuresPerMin: config.enrollFailuresPerMin });
  const logThrottle = createLogThrottle(RATE_LIMIT_LOG_INTERVAL_MS);

  app.post(
    '/v1/enroll',
    {
      config: { public: true },
      schema: {
        tags: ['enrollment'],
        summary: 'Enroll a device with an enrollment token',
        description:
          'Returns the device id and its MQTT credentials (the password is shown only here), plus the hub public key. ' +
          'Unknown token: 401 HUB_ERR_TOKEN_INVALID; no uses left: 403 HUB_ERR_TOKEN_EXHAUSTED; expired: 410 HUB_ERR_TOKEN_EXPIRED. ' +
          'More than enrollRatePerMin requests, or enrollFailuresPerMin refused attempts, per minute from one address: ' +
          '429 HUB_ERR_RATE_LIMITED with a Retry-After header (seconds).',
        security: [],
        body: EnrollRequestSchema,
        response: { 201: EnrollResponseSchema, ...errorResponses(400, 401, 403, 410, 413, 429) },
      },
      // Before the body is read: a refused client costs no parsing, no token lookup and no password hash.
      onRequest: async (request, reply) => {
        const nowMs = clock.now();
        const verdict = limits.admit(request.ip, nowMs);
        if (verdict.ok) return;
        metrics.enrollRateLimited.inc({ limit: verdict.limit });
        const refusedSinceLastLine = logThrottle.note(verdict.limit, nowMs);
        if (refusedSinceLastLine !== undefined) {
          request.log.warn(
            { clientAddress: request.ip, limit: verdict.limit, retryAfterSec: verdict.retryAfterSec, refusedSinceLastLine },
            'enrollment rate limited',
          );
        }
        reply.header('retry-after', String(verdict.retryAfterSec));
        throw new HubError('HUB_ERR_RATE_LIMITED', {
          message: `too many enrollment ${verdict.limit} from this address; retry in ${verdict.retryAfterSec} s`,
          details: { limit: verdict.limit, retryAfterSec: verdict.retryAfterSec },
        });
      },
      // Every refused attempt counts, whatever refused it: the token, the schema, the body size.
      onResponse: async (request, reply) => {
        if (reply.statusCode >= 400 && reply.statusCode < 500 && reply.statusCode !== 429) limits.refused(request.ip, clock.now());
      },
    },
    async (request, reply) => {
      const enrolled = await app.fleet.enroll(request.body, { requestHost: request.headers.host });
      request.log.info({ deviceId: enrolled.deviceId, name: enrolled.name }, 'device enrolled');
      reply.status(201);
      return enrolled;
    },
  );
};
