/**
 * One structured log line per HTTP response, written by the hub instead of fastify's default request logging so
 * that secrets in query strings (`/v1/events?token=…`) never reach the log.
 */
import type { FastifyInstance } from 'fastify';

export function redactUrl(url: string): string {
  return url.replace(/([?&](?:token|password)=)[^&]*/gi, '$1[redacted]');
}

export function addRequestLogging(app: FastifyInstance): void {
  app.addHook('onResponse', async (request, reply) => {
    const entry = {
      method: request.method,
      url: redactUrl(request.url),
      statusCode: reply.statusCode,
      responseTimeMs: Math.round(reply.elapsedTime * 10) / 10,
    };
    if (reply.statusCode >= 500) request.log.error(entry, 'request completed');
    else if (reply.statusCode >= 400) request.log.info(entry, 'request completed');
    else request.log.debug(entry, 'request completed');
  });
}
