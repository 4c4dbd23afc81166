/** Hand-made MQTT 3.1.1 bytes and raw sockets, for tests that must misbehave below what an MQTT client allows. */
import { connect, type Socket } from 'node:net';
import { onTestFinished } from 'vitest';
import { remainingLength } from './mqtt-remaining-length.js';

export { remainingLength };

/** An MQTT UTF-8 string: two length bytes, then the bytes [MQTT-1.5.3]. */
export function utf8(text: string): Buffer {
  const body = Buffer.from(text, 'utf8');
  const length = Buffer.alloc(2);
  length.writeUInt16BE(body.length);
  return Buffer.concat([length, body]);
}

/** A CONNECT packet (keepalive 60 s, clean session unless `clean: false`) with username and password. */
export function connectPacket(credentials: { clientId: string; username: string; password: string; clean?: boolean }): Buffer {
  const variable = Buffer.concat([utf8('MQTT'), Buffer.from([4, credentials.clean === false ? 0xc0 : 0xc2, 0, 60])]);
  const payload = Buffer.concat([utf8(credentials.clientId), utf8(credentials.username), utf8(credentials.password)]);
  return Buffer.concat([Buffer.from([0x10]), remainingLength(variable.length + payload.length), variable, payload]);
}

/** The fixed header (type byte and Remaining Length) of a packet announcing `remainingBytes`. */
export function fixedHeader(typeByte: number, remainingBytes: number): Buffer {
  return Buffer.concat([Buffer.from([typeByte]), remainingLength(remainingBytes)]);
}

export interface RawConnection {
  socket: Socket;
  /** Resolves when the socket closes (by either side). */
  closed: Promise<void>;
  isClosed(): boolean;
  /** Everything received so far. */
  received(): Buffer;
  /** Resolves once at least `bytes` bytes were received in all. */
  receivedAtLeast(bytes: number, timeoutMs?: number): Promise<Buffer>;
}

/** Opens a TCP connection (destroyed when the test ends); errors from a hub that hangs up are expected and ignored. */
export async function openRaw(port: number, host = '127.0.0.1'): Promise<RawConnection> {
  const socket = connect(port, host);
  onTestFinished(() => void socket.destroy());
  socket.on('error', () => {});
  const chunks: Buffer[] = [];
  let closed = false;
  const closedPromise = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  void closedPromise.then(() => (closed = true));
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return {
    socket,
    closed: closedPromise,
    isClosed: () => closed,
    received: () => Buffer.concat(chunks),
    async receivedAtLeast(bytes, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (Buffer.concat(chunks).length < bytes) {
        if (Date.now() > deadline || closed) throw new Error(`received ${Buffer.concat(chunks).length} of ${bytes} bytes`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      return Buffer.concat(chunks);
    },
  };
}

/** Resolves true when `closed` settles within `timeoutMs`, false otherwise (without failing the test itself). */
export async function closesWithin(connection: RawConnection, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
  const result = await Promise.race([connection.closed.then(() => true as const), timeout]);
  clearTimeout(timer);
  return result;
}
