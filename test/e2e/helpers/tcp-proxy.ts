/**
 * A TCP proxy between devices and the hub's MQTT listener that injects network faults: frozen links (the
 * connection stays open but nothing flows), dropped connections (both sides see a reset, no DISCONNECT) and a
 * refusing "broker down" phase. Closed when the current test ends.
 */
import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';
import { onTestFinished } from 'vitest';

export interface TcpProxy {
  readonly port: number;
  /** `mqtt://127.0.0.1:<proxy port>`: what enrolled devices should be told (the hub's `publicMqttUrl`). */
  readonly mqttUrl: string;
  /** Connections accepted and forwarded so far. */
  readonly accepted: number;
  /** Where new connections are forwarded (set once the hub listens). */
  setTarget(port: number): void;
  /** Stops forwarding in both directions; sockets stay open, bytes wait in the kernel buffers. */
  freeze(): void;
  /** Resumes forwarding, delivering what waited. */
  thaw(): void;
  /** Destroys every open connection on both sides (no MQTT DISCONNECT: the broker publishes the last will). */
  dropConnections(): void;
  /** While true, new connections are closed at once, as if the broker were down. */
  refuse(on: boolean): void;
  close(): Promise<void>;
}

export async function startTcpProxy(): Promise<TcpProxy> {
  let targetPort: number | undefined;
  let frozen = false;
  let refusing = false;
  let accepted = 0;
  const pairs = new Set<[Socket, Socket]>();

  const server = createServer((device) => {
    if (refusing || targetPort === undefined) {
      device.destroy();
      return;
    }
    accepted += 1;
    const hub = createConnection({ host: '127.0.0.1', port: targetPort });
    const pair: [Socket, Socket] = [device, hub];
    pairs.add(pair);
    // Explicit data handlers, not pipe(): pause() then reliably stops the flow until resume().
    device.on('data', (chunk) => hub.write(chunk));
    hub.on('data', (chunk) => device.write(chunk));
    const end = () => {
      pairs.delete(pair);
      device.destroy();
      hub.destroy();
    };
    device.on('close', end).on('error', end);
    hub.on('close', end).on('error', end);
    if (frozen) {
      device.pause();
      hub.pause();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  const proxy: TcpProxy = {
    port,
    mqttUrl: `mqtt://127.0.0.1:${port}`,
    get accepted() {
      return accepted;
    },
    setTarget(target) {
      targetPort = target;
    },
    freeze() {
      frozen = true;
      for (const [device, hub] of pairs) {
        device.pause();
        hub.pause();
      }
    },
    thaw() {
      frozen = false;
      for (const [device, hub] of pairs) {
        device.resume();
        hub.resume();
      }
    },
    dropConnections() {
      for (const [device, hub] of [...pairs]) {
        device.resetAndDestroy();
        hub.resetAndDestroy();
      }
      pairs.clear();
    },
    refuse(on) {
      refusing = on;
    },
    async close() {
      proxy.dropConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  onTestFinished(() => proxy.close());
  return proxy;
}
