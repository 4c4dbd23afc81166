/**
 * Streaming scan of MQTT fixed headers [MQTT-2.2]: one type byte, then the Remaining Length as a variable byte
 * integer of at most four bytes [MQTT-2.2.3], then that many bytes of packet. The scanner sees each byte once,
 * skips packet bodies in bulk and keeps a few integers of state — it never buffers — so a connection can be judged
 * on a packet's announced size before a single byte of its body has arrived.
 */

/** Largest Remaining Length four bytes can encode [MQTT-2.2.3]. */
export const MAX_REMAINING_LENGTH_BYTES = 268_435_455;

export type HeaderViolation =
  /** A fifth length byte: no MQTT packet is that long, the stream is not MQTT (a protocol error: close). */
  | { kind: 'malformed-length' }
  /** A header announced a packet whose Remaining Length exceeds the limit in force. */
  | { kind: 'oversize'; packetType: number; remainingBytes: number };

export class FixedHeaderScanner {
  private state: 'type' | 'length' | 'body' = 'type';
  private packetType = 0;
  /** While in `length`: the value decoded so far; while in `body`: the bytes still to skip. */
  private remaining = 0;
  private multiplier = 1;
  private lengthBytes = 0;

  /**
   * Scans `chunk`, the next bytes of the connection. Every header completed in it is checked against
   * `maxRemainingBytes`; the first violation is returned and the scanner must not be used again.
   */
  scan(chunk: Uint8Array, maxRemainingBytes: number): HeaderViolation | undefined {
    let i = 0;
    while (i < chunk.length) {
      if (this.state === 'body') {
        const skipped = Math.min(this.remaining, chunk.length - i);
        this.remaining -= skipped;
        i += skipped;
        if (this.remaining === 0) this.state = 'type';
        continue;
      }
      const byte = chunk[i++]!;
      if (this.state === 'type') {
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
        if (this.lengthBytes === 4) return { kind: 'malformed-length' };
        continue;
      }
      if (this.remaining > maxRemainingBytes) {
        return { kind: 'oversize', packetType: this.packetType, remainingBytes: this.remaining };
      }
      this.state = this.remaining === 0 ? 'type' : 'body';
    }
    return undefined;
  }
}
