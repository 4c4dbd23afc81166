/**
 * A pass-through in front of aedes for every MQTT connection (TCP and WebSocket) that bounds what a client can make
 * the hub hold. aedes' parser (mqtt-packet) appends every byte to a buffer list until the packet its header
 * announced is complete, and it does so before authentication — so one CONNECT announcing 200 MiB would be buffered
 * whole. The guard reads the fixed headers itself as bytes stream past (fixed-header-scanner.ts) and destroys the
 * connection the moment a header announces more than the limit in force, and it bounds an unaccepted connection:
 *
 * - before the session is accepted: each packet and all bytes together at most `maxConnectBytes`, and acceptance
 *   within `connectTimeoutMs` (aedes' own `connectTimeout` stops once a CONNECT has been parsed, so it does not cover
 *   a slow authentication; the guard's timer runs until acceptance, on the injected clock);
 * - after: each packet at most `maxPacketBytes`.
 *
 * Chunks are forwarded unchanged and never held beyond the stream's own high-water mark.
 */
import { Duplex, type Readable } from 'node:stream';
import type { Clock, TimerHandle } from '../clock.js';
import { HubError, type HubErrorCode } from '../errors.js';
import { FixedHeaderScanner } from './fixed-header-scanner.js';

/** Room above `maxPayloadBytes` for the rest of a PUBLISH: topic (device topics are < 100 bytes) and packet id. */
export const PUBLISH_OVERHEAD_BYTES = 1024;

/**
 * A WebSocket layer buffers each frame whole before the MQTT bytes inside reach the guard; its raw bytes count
 * against the unaccepted budget too, with this much room for the frame headers of a normal CONNECT.
 */
export const FRAMING_OVERHEAD_BYTES = 1024;

export type GuardRefusalReason =
  | 'connect-timeout'
  | 'unauthenticated-bytes'
  | 'unauthenticated-packet-too-large'
  | 'packet-too-large'
  | 'malformed-header';

export interface GuardRefusal {
  reason: GuardRefusalReason;
  remoteAddress: string | undefined;
  /** The announced Remaining Length, or the bytes received so far (for `unauthenticated-bytes`). */
  bytes?: number;
  limitBytes?: number;
}

export interface ConnectionGuardOptions {
  /** Largest packet (Remaining Length) and total bytes a connection may send before it is accepted. */
  maxConnectBytes: number;
  /** Largest packet (Remaining Length) once the session is accepted. */
  maxPacketBytes: number;
  /** An unaccepted connection is closed after this many milliseconds. */
  connectTimeoutMs: number;
  clock: Clock;
  /** The peer, for logs (a net.Socket's own `remoteAddress` when not given). */
  remoteAddress?: string;
  /** The socket under a framed transport (WebSocket), observed until acceptance; see FRAMING_OVERHEAD_BYTES. */
  rawSocket?: Readable;
  /** Called once, before the connection is destroyed. */
  onRefuse(refusal: GuardRefusal): void;
}

const ERROR_CODES: Record<GuardRefusalReason, HubErrorCode> = {
  'connect-timeout': 'HUB_ERR_MQTT_CONNECT_TIMEOUT',
  'unauthenticated-bytes': 'HUB_ERR_MQTT_CONNECT_TOO_LARGE',
  'unauthenticated-packet-too-large': 'HUB_ERR_MQTT_PACKET_TOO_LARGE',
  'packet-too-large': 'HUB_ERR_MQTT_PACKET_TOO_LARGE',
  'malformed-header': 'HUB_ERR_MQTT_MALFORMED_HEADER',
};

export class GuardedConnection extends Duplex {
  readonly remoteAddress: string | undefined;
  private readonly scanner = new FixedHeaderScanner();
  private accepted = false;
  private unacceptedBytes = 0;
  private rawBytes = 0;
  private timer: TimerHandle | undefined;

  constructor(
    private readonly inner: Duplex,
    private readonly options: ConnectionGuardOptions,
  ) {
    super({ allowHalfOpen: false });
    this.remoteAddress = options.remoteAddress ?? (inner as { remoteAddress?: string }).remoteAddress;
    this.timer = options.clock.setTimeout(() => this.refuse({ reason: 'connect-timeout' }), options.connectTimeoutMs);
    inner.on('data', this.onData);
    inner.on('end', () => this.push(null));
    inner.on('error', (error: Error) => this.destroy(error));
    inner.on('close', () => this.destroy());
    options.rawSocket?.on('data', this.onRawData);
  }

  /** The session was accepted (authenticated): the per-packet limit becomes `maxPacketBytes`, the timer stops. */
  accept(): void {
    if (this.accepted) return;
    this.accepted = true;
    this.stopWatching();
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.destroyed) return;
    if (!this.accepted) {
      this.unacceptedBytes += chunk.byteLength;
      if (this.unacceptedBytes > this.options.maxConnectBytes) {
        return this.refuse({ reason: 'unauthenticated-bytes', bytes: this.unacceptedBytes, limitBytes: this.options.maxConnectBytes });
      }
    }
    const limitBytes = this.accepted ? this.options.maxPacketBytes : this.options.maxConnectBytes;
    const violation = this.scanner.scan(chunk, limitBytes);
    if (violation?.kind === 'malformed-length') return this.refuse({ reason: 'malformed-header' });
    if (violation) {
      const reason = this.accepted ? 'packet-too-large' : 'unauthenticated-packet-too-large';
      return this.refuse({ reason, bytes: violation.remainingBytes, limitBytes });
    }
    if (!this.push(chunk)) this.inner.pause();
  };

  private readonly onRawData = (chunk: Buffer): void => {
    if (this.accepted || this.destroyed) return;
    this.rawBytes += chunk.byteLength;
    const limitBytes = this.options.maxConnectBytes + FRAMING_OVERHEAD_BYTES;
    if (this.rawBytes > limitBytes) this.refuse({ reason: 'unauthenticated-bytes', bytes: this.rawBytes, limitBytes });
  };

  private refuse(refusal: Omit<GuardRefusal, 'remoteAddress'>): void {
    if (this.destroyed) return;
    this.options.onRefuse({ ...refusal, remoteAddress: this.remoteAddress });
    this.destroy(new HubError(ERROR_CODES[refusal.reason]));
  }

  private stopWatching(): void {
    if (this.timer !== undefined) this.options.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.options.rawSocket?.off('data', this.onRawData);
  }

  override _read(): void {
    this.inner.resume();
  }

  override _write(chunk: Buffer, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.inner.write(chunk, encoding)) callback();
    else this.inner.once('drain', () => callback());
  }

  /**
   * mqtt-packet writes one packet in several pieces between cork() and uncork(); they must reach the socket corked
   * too, as one write. Written one by one, the small pieces meet Nagle's algorithm and the peer's delayed ACK, and
   * each acknowledgement would wait ~40 ms.
   */
  override _writev(chunks: Array<{ chunk: Buffer; encoding: BufferEncoding }>, callback: (error?: Error | null) => void): void {
    let flushed = true;
    this.inner.cork();
    for (const { chunk, encoding } of chunks) flushed = this.inner.write(chunk, encoding);
    this.inner.uncork();
    if (flushed) callback();
    else this.inner.once('drain', () => callback());
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.inner.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.stopWatching();
    this.inner.destroy();
    callback(error);
  }
}
