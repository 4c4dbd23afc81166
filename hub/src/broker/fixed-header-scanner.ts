/**
 * Streaming scan of MQTT fixed headers [MQTT-2.2]: one type byte, then the Remaining Length as a variable byte
 * integer of at most four bytes [MQTT-2.2.3], then that many bytes of packet. The scanner sees each byte once,
 * skips packet bodies in bulk and keeps a few integers of state — it never buffers — so a connection can be judged
 * on a packet's announced size before a single byte of its body has arrived.
 */

/** Largest Remaining Length four bytes can encode [MQTT-2.2.3]. */
export const MAX_REMAINING_LENGTH_BYTES = 268_435_455;

/** Packet type of PUBLISH [MQTT-2.2.1]: the only packet that carries a device payload. */
export const PUBLISH_PACKET_TYPE = 3;

export type HeaderViolation =
  /** A fifth length byte: no MQTT packet is that long, the stream is not MQTT (a protocol error: close). */
  | { kind: 'malformed-length' }
  /** A header announced a packet whose Remaining Length exceeds the limit in force. */
  | { kind: 'oversize'; packetType: number; remainingBytes: number };

export interface PacketScan {
  violation?: HeaderViolation;
  /** Bytes of the chunk scanned (all of it, unless the packet count stopped the scan). */
  scannedBytes: number;
  /** Packets whose first byte was among them. */
  packets: number;
}

export class FixedHeaderScanner {
  private state: 'type' | 'length' | 'body' = 'type';
  private packetType = 0;
  /** While in `length`: the value decoded so far; while in `body`: the bytes still to skip. */
  private remaining = 0;
  private multiplier = 1;
  private lengthBytes = 0;

  /**
   * Scans `chunk`, the next bytes of the connection. Every header completed in it is checked against
   * `maxRemainingBytes`, or `maxControlBytes` for a packet other than PUBLISH; the first violation is returned and
   * the scanner must not be used again.
   */
  scan(chunk: Uint8Array, maxRemainingBytes: number, maxControlBytes = maxRemainingBytes): HeaderViolation | undefined {
    return this.scanPackets(chunk, maxRemainingBytes, maxControlBytes, Infinity).violation;
  }

  /**
   * As {@link scan}, but stops before the first byte of the packet after `maxPackets` new ones: `scannedBytes` of
   * `chunk` were scanned, in which `packets` packets began. The rest of `chunk` is to be scanned later.
   */
  scanPackets(chunk: Uint8Array, maxRemainingBytes: number, maxControlBytes: number, maxPackets: number): PacketScan {
    let packets = 0;
    let i = 0;
    while (i < chunk.length) {
      if (this.state === 'body') {
        const skipped = Math.min(this.remaining, chunk.length - i);
        this.remaining -= skipped;
        i += skipped;
        if (this.remaining === 0) this.state = 'type';
        continue;
      }
      if (this.state === 'type' && packets === maxPackets) break;
      const byte = chunk[i++]!;
      if (this.state === 'type') {
        packets++;
        this.packetType = byte >> 4;
        this.remaining = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
        this.state = 'length';
        continue;
      }
      this.remaining += (byte & 0x7f) * this.multiplier;
      this.multiplier *= 128;
      this.lengthBytes++;
      if (byte & 0x80) {
        if (this.lengthBytes === 4) return { violation: { kind: 'malformed-length' }, scannedBytes: i, packets };
        continue;
      }
      if (this.remaining > (this.packetType === PUBLISH_PACKET_TYPE ? maxRemainingBytes : maxControlBytes)) {
        return { violation: { kind: 'oversize', packetType: this.packetType, remainingBytes: this.remaining }, scannedBytes: i, packets };
      }
      this.state = this.remaining === 0 ? 'type' : 'body';
    }
    return { scannedBytes: i, packets };
  }
}
