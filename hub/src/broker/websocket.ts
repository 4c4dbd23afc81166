/**
 * MQTT over WebSocket on the hub's HTTP port (path `mqttWsPath`, default `/mqtt`), for devices that can only reach
 * the hub through HTTP(S) — a proxy, a firewall that opens 443 only, a TLS terminator in front of the hub. Each
 * WebSocket becomes a byte stream handed to the broker, which authenticates, applies the ACL and routes exactly as
 * on TCP. Upgrades to any other path are refused with 404.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, createWebSocketStream } from 'ws';
import type { HubLogger } from '../logger.js';
import type { AedesBroker } from './aedes-broker.js';

/** MQTT subprotocol names clients offer (MQTT 3.1.1 §6: "mqtt"; older clients "mqttv3.1"). */
const SUBPROTOCOLS = ['mqtt', 'mqttv3.1'];

export interface MqttWebSocketOptions {
  path: string;
  /** Largest MQTT packet accepted in one WebSocket message; larger messages close the connection (1009). */
  maxMessageBytes: number;
  log: HubLogger;
}

export interface MqttWebSocket {
  /** Live WebSocket connections. */
  connections(): number;
  /** Closes every WebSocket connection and stops accepting upgrades. */
  close(): Promise<void>;
}

export function attachMqttWebSocket(
  server: Server,
  broker: Pick<AedesBroker, 'handleConnection'>,
  options: MqttWebSocketOptions,
): MqttWebSocket {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: options.maxMessageBytes,
    perMessageDeflate: false,
    handleProtocols: (offered) => SUBPROTOCOLS.find((p) => offered.has(p)) ?? false,
  });
  let closed = false;

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = new URL(request.url ?? '/', 'http://hub').pathname;
    if (closed || path !== options.path) {
      socket.end(`HTTP/1.1 ${closed ? '503 Service Unavailable' : '404 Not Found'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      const stream = createWebSocketStream(ws);
      // Errors (a client vanishing, an oversize message) end this connection only; aedes sees the stream close.
      stream.on('error', (error) => options.log.debug({ err: error }, 'mqtt websocket error'));
      // ws buffers each frame whole (up to maxMessageBytes) before the broker sees a byte of it: the broker's stream
      // guard watches the raw socket too, so an unauthenticated client cannot make it buffer more than its budget.
      broker.handleConnection(stream, { remoteAddress: request.socket.remoteAddress, rawSocket: socket });
    });
  };
  server.on('upgrade', onUpgrade);

  return {
    connections: () => wss.clients.size,
    async close() {
      if (closed) return;
      closed = true;
      server.off('upgrade', onUpgrade);
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
