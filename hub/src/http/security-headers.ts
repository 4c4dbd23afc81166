/**
 * Headers that keep the hub's answers from being read as something else in a browser (hub/docs/dashboard.md#security).
 * The API echoes text devices and callers chose (names, reasons, the path of a 404), so on every answer: `nosniff`,
 * so no browser guesses HTML or script from JSON or plain text; and on every answer that is not an HTML page, a
 * Content-Security-Policy that allows nothing, so one opened directly as a document runs nothing, loads nothing and
 * cannot be framed. HTML pages bring their own policy (the dashboard's, dashboard-plugin.ts).
 */
import type { FastifyInstance, FastifyReply } from 'fastify';

/** For JSON, text and binary answers: no script, style, image, frame or fetch of any origin. */
export const NON_DOCUMENT_CSP = "default-src 'none'; frame-ancestors 'none'";

export function applySecurityHeaders(reply: FastifyReply): void {
  if (!reply.hasHeader('x-content-type-options')) reply.header('x-content-type-options', 'nosniff');
  const type = String(reply.getHeader('content-type') ?? '');
  if (!reply.hasHeader('content-security-policy') && !type.startsWith('text/html')) reply.header('content-security-policy', NON_DOCUMENT_CSP);
}

/** Adds the headers to every answer of `app`, errors and 404s included (call on the root instance). */
export function addSecurityHeaders(app: FastifyInstance): void {
  // onSend: the content type is known by then (set by the route or by serialization).
  app.addHook('onSend', async (_request, reply, payload) => {
    applySecurityHeaders(reply);
    return payload;
  });
}
