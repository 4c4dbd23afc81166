/**
 * Decorates `hub.events` (the typed hub event emitter) and streams it at `GET /v1/events` as server-sent events:
 * `event: <name>`, `data: <JSON payload>`. Admin auth; the token may come as `?token=` because EventSource cannot
 * send headers. A client that stops reading is dropped rather than buffered without bound.
 */
import type { ServerResponse } from 'node:http';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import fp from 'fastify-plugin';
import Type from 'typebox';
import '../hub-context.js';
import { errorResponses } from '../http/error-schema.js';
import { HubEvents } from './hub-events.js';

declare module 'fastify' {
  interface FastifyInstance {
    events: HubEvents;
  }
}

const KEEPALIVE_MS = 15_000;
const MAX_BUFFERED_BYTES = 1024 * 1024;

export const eventsPlugin = fp(
  async (app) => {
    const events = new HubEvents((error, name) => app.log.error({ err: error, event: name }, 'event listener failed'));
    app.decorate('events', events);
    const streams = new Set<ServerResponse>();

    app.withTypeProvider<TypeBoxTypeProvider>().get(
      '/v1/events',
      {
        config: { allowQueryToken: true },
        schema: {
          tags: ['events'],
          summary: 'Live hub events (server-sent events)',
          querystring: Type.Object({
            types: Type.Optional(Type.String({ description: 'comma-separated event names to receive; default all' })),
            token: Type.Optional(Type.String({ description: 'admin token, for clients that cannot set headers' })),
          }),
          response: {
            200: Type.String({ description: 'text/event-stream: `event: <name>` / `data: <json>` records' }),
            ...errorResponses(400, 401),
          },
        },
      },
      (request, reply) => {
        const wanted = request.query.types ? new Set(request.query.types.split(',').map((t) => t.trim()).filter(Boolean)) : undefined;
        reply.hijack();
        const raw = reply.raw;
        raw.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache, no-transform',
          connection: 'keep-alive',
          'x-accel-buffering': 'no',
        });
        // HEAD gets the GET's header fields and no body [RFC 9110 §9.3.2]: a stream that never ends would hold the
        // connection, and every request pipelined behind it, for good.
        if (request.method === 'HEAD') {
          raw.end();
          return;
        }
        raw.write(`retry: 3000\n: connected\n\n`);
        streams.add(raw);
        let sequence = 0;
        const write = (chunk: string) => {
          if (raw.writableLength > MAX_BUFFERED_BYTES) {
            request.log.warn({ buffered: raw.writableLength }, 'event stream client too slow, dropped');
            return close();
          }
          raw.write(chunk);
        };
        const off = events.onAny((name, payload) => {
          if (wanted && !wanted.has(name)) return;
          write(`id: ${++sequence}\nevent: ${name}\ndata: ${JSON.stringify(payload)}\n\n`);
        });
        const keepalive = app.clock.setInterval(() => write(': keepalive\n\n'), KEEPALIVE_MS);
        function close(): void {
          off();
          app.clock.clearTimer(keepalive);
          streams.delete(raw);
          if (!raw.writableEnded) raw.end();
        }
        request.raw.on('close', close);
        raw.on('close', close);
      },
    );

    // Open streams would keep the HTTP server from closing.
    app.addHook('preClose', async () => {
      for (const stream of streams) stream.end();
      streams.clear();
    });
  },
  { name: 'fedfleet-events', fastify: '5.x' },
);
