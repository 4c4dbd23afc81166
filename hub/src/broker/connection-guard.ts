/**
 * A pass-through in front of aedes for every MQTT connection (TCP and WebSocket) that bounds what a client can make
 * the hub hold. aedes' parser (mqtt-packet) appends every byte to a buffer list until the packet its header
 * announced is complete, and it does so before authentication — so one CONNECT announcing 200 MiB would be buffered
 * whole. The guard reads the fixed headers itself as bytes stream past (fixed-header-scanner.ts) and destroys the
 * connection the moment a header announces more than the limit in force, and it bounds an unaccepted connection:
 *
 * - before the session is accepted: each packet and all bytes together at most `maxConnectBytes`, and acceptance
 *   within `connectTimeoutMs` (aedes' own `connectTimeout` stops once a CONNECT has been parsed, so it does not cover
 *   a slow authentication; the guard's timer runs until acceptance, on the injected clock); a first CONNECT with a
 *   protocol level aedes' parser refuses is answered with CONNACK 0x01 before closing (protocol-level-probe.ts);
 * - after: each PUBLISH at most `maxPacketBytes`, any other packet at most CONTROL_PACKET_MAX_BYTES, and at most
 *   ACCEPTED_PACKET_RATE packets (the guard paces reading beyond it).
 *
 * Bytes are forwarded unchanged and in order; beyond the stream's own high-water mark the guard holds at most the
 * chunk that pacing cut.
 */
import { Duplex, type Readable } from 'node:stream';
import type { Clock, TimerHandle } from '../clock.js';
import { HubError, type HubErrorCode } from '../errors.js';
import { fullBucket, hasTokens, type TokenBucket, type TokenRate } from '../limits/token-bucket.js';
import { FixedHeaderScanner, PUBLISH_PACKET_TYPE, type HeaderViolation } from './fixed-header-scanner.js';
import { ProtocolLevelProbe, UNACCEPTABLE_PROTOCOL_LEVEL_CONNACK } from './protocol-level-probe.js';

/** Room above `maxPayloadBytes` for the rest of a PUBLISH: topic (device topics are < 100 bytes) and packet id. */
export const PUBLISH_OVERHEAD_BYTES = 1024;

/**
 * Largest packet other than PUBLISH once a session is accepted. What a device sends besides PUBLISH is tiny — a
 * SUBSCRIBE to its two topics is under 200 bytes, acknowledgements 2 — while every filter of a SUBSCRIBE or
 * UNSUBSCRIBE costs aedes work that no publish rate limit sees.
 */
export const CONTROL_PACKET_MAX_BYTES = 4096;

/**
 * Packets an accepted connection may send, per second and at once, by default (config `mqttPacketsPerSec`). A device sends a few hundred a second at most (the
 * per-kind limits of device-rate-limiter.ts add up to ~260, plus a PUBACK per message it receives), but a PINGREQ is
 * two bytes and costs aedes a reply: unpaced, a few megabytes of them keep the hub's event loop busy for seconds.
 * Over the rate the guard stops reading the socket, so TCP flow control slows the sender; nothing is dropped.
 */
export const ACCEPTED_PACKET_RATE: Readonly<TokenRate> = Object.freeze({ perSec: 1000, burst: 2000 });

/**
 * Packets a paced connection waits for before it is read again (a tenth of a second's worth at lower rates): it wakes
 * about 10 times a second, not per packet.
 */
const PACING_RESUME_PACKETS = 100;

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
  | 'malformed-header'
  | 'unsupported-protocol-level';

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
  /** Packets an accepted connection may send, per second and at once. Default ACCEPTED_PACKET_RATE. */
  packetRate?: Readonly<TokenRate>;
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
  'unsupported-protocol-level': 'HUB_ERR_MQTT_PROTOCOL_LEVEL',
};

export class GuardedConnection extends Duplex {
  readonly remoteAddress: string | undefined;
  private readonly scanner = new FixedHeaderScanner();
  private readonly levelProbe = new ProtocolLevelProbe();
  /** Refused, with an answer still on its way out: nothing more is read. */
  private refused = false;
  private accepted = false;
  private unacceptedBytes = 0;
  private rawBytes = 0;
  private timer: TimerHandle | undefined;
  /** Once accepted: the packets the connection may still send now, and bytes held back while it may not. */
  private packetBucket: TokenBucket | undefined;
  private readonly packetRate: Readonly<TokenRate>;
  private held: Buffer | undefined;
  private pacingTimer: TimerHandle | undefined;
  private innerEnded = false;
  /** False while the reader (aedes) has not asked for more since the last push. */
  private flowing = true;

  constructor(
    private readonly inner: Duplex,
    private readonly options: ConnectionGuardOptions,
  ) {
    super({ allowHalfOpen: false });
    this.packetRate = options.packetRate ?? ACCEPTED_PACKET_RATE;
    this.remoteAddress = options.remoteAddress ?? (inner as { remoteAddress?: string }).remoteAddress;
    this.timer = options.clock.setTimeout(() => this.refuse({ reason: 'connect-timeout' }), options.connectTimeoutMs);
    inner.on('data', this.onData);
    inner.on('end', () => {
      this.innerEnded = true;
      if (!this.held) this.push(null); // else once the held bytes are forwarded
    });
    inner.on('error', (error: Error) => this.destroy(error));
    inner.on('close', () => this.destroy());
    options.rawSocket?.on('data', this.onRawData);
  }

  /** The session was accepted (authenticated): the per-packet limit becomes `maxPacketBytes`, the timer stops. */
  accept(): void {
    if (this.accepted) return;
    this.accepted = true;
    this.packetBucket = fullBucket(this.packetRate, this.options.clock.now());
    this.stopWatching();
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.destroyed || this.refused) return;
    if (!this.accepted) {
      this.unacceptedBytes += chunk.byteLength;
      if (this.unacceptedBytes > this.options.maxConnectBytes) {
        return this.refuse({ reason: 'unauthenticated-bytes', bytes: this.unacceptedBytes, limitBytes: this.options.maxConnectBytes });
      }
    }
    if (this.accepted) {
      // A chunk already on its way when the socket was paused waits behind the held bytes.
      if (this.held) this.held = Buffer.concat([this.held, chunk]);
      else this.forwardPaced(chunk);
      return;
    }
    const violation = this.scanner.scan(chunk, this.options.maxConnectBytes);
    if (violation) return this.refuseHeader(violation, this.options.maxConnectBytes, this.options.maxConnectBytes);
    if (this.levelProbe.unsupported(chunk)) return this.refuse({ reason: 'unsupported-protocol-level' }, UNACCEPTABLE_PROTOCOL_LEVEL_CONNACK);
    if (!this.push(chunk)) this.inner.pause();
  };

  /**
   * Forwards what the packet bucket allows of `chunk` and holds the rest, with the socket paused, until the bucket
   * has refilled a little: the sender is slowed by TCP flow control, nothing is dropped or reordered.
   */
  private forwardPaced(chunk: Buffer): void {
    const bucket = this.packetBucket!;
    hasTokens(bucket, this.packetRate, 0, this.options.clock.now()); // refills
    const limitBytes = this.options.maxPacketBytes;
    const controlLimitBytes = Math.min(limitBytes, CONTROL_PACKET_MAX_BYTES);
    const scan = this.scanner.scanPackets(chunk, limitBytes, controlLimitBytes, Math.floor(bucket.tokens));
    if (scan.violation) return this.refuseHeader(scan.violation, limitBytes, controlLimitBytes);
    bucket.tokens -= scan.packets;
    this.flowing = scan.scannedBytes === 0 || this.push(scan.scannedBytes === chunk.length ? chunk : chunk.subarray(0, scan.scannedBytes));
    if (scan.scannedBytes < chunk.length) {
      this.held = chunk.subarray(scan.scannedBytes);
      this.inner.pause();
      const resumeAt = Math.max(1, Math.min(PACING_RESUME_PACKETS, Math.floor(this.packetRate.perSec / 10)));
      const waitMs = Math.ceil(((resumeAt - bucket.tokens) * 1000) / this.packetRate.perSec);
      this.pacingTimer = this.options.clock.setTimeout(() => this.release(), Math.max(1, waitMs));
    } else if (!this.flowing) {
      this.inner.pause(); // until _read
    }
  }

  private release(): void {
    this.pacingTimer = undefined;
    const held = this.held;
    this.held = undefined;
    if (!held || this.destroyed) return;
    this.forwardPaced(held);
    if (this.held || this.destroyed) return;
    if (this.innerEnded) this.push(null);
    else if (this.flowing) this.inner.resume();
  }

  private refuseHeader(violation: HeaderViolation, limitBytes: number, controlLimitBytes: number): void {
    if (violation.kind === 'malformed-length') return this.refuse({ reason: 'malformed-header' });
    const reason = this.accepted ? 'packet-too-large' : 'unauthenticated-packet-too-large';
    const violated = violation.packetType === PUBLISH_PACKET_TYPE ? limitBytes : controlLimitBytes;
    this.refuse({ reason, bytes: violation.remainingBytes, limitBytes: violated });
  }

  private readonly onRawData = (chunk: Buffer): void => {
    if (this.accepted || this.destroyed) return;
    this.rawBytes += chunk.byteLength;
    const limitBytes = this.options.maxConnectBytes + FRAMING_OVERHEAD_BYTES;
    if (this.rawBytes > limitBytes) this.refuse({ reason: 'unauthenticated-bytes', bytes: this.rawBytes, limitBytes });
  };

  /** Closes the connection, after writing `answer` when there is one (a refused peer that never reads it meets the timer). */
  private refuse(refusal: Omit<GuardRefusal, 'remoteAddress'>, answer?: Readonly<Buffer>): void {
    if (this.destroyed) return;
    if (this.refused) return void this.destroy();
    this.refused = true;
    this.options.onRefuse({ ...refusal, remoteAddress: this.remoteAddress });
    const error = new HubError(ERROR_CODES[refusal.reason]);
    if (!answer) return void this.destroy(error);
    this.inner.end(answer, () => this.destroy(error));
  }

  private stopWatching(): void {
    if (this.timer !== undefined) this.options.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.options.rawSocket?.off('data', this.onRawData);
  }

  override _read(): void {
    this.flowing = true;
    if (!this.held) this.inner.resume();
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
    if (this.pacingTimer !== undefined) this.options.clock.clearTimer(this.pacingTimer);
    this.held = undefined;
    this.inner.destroy();
    callback(error);
  }
}
