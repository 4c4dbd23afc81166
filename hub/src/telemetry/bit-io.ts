/**
 * A stream of bit fields, least significant bit first, for the bit-packed telemetry blocks (packed-block.ts). Fields
 * are non-negative safe integers up to 53 bits wide; they are moved 24 bits at a time so every intermediate stays
 * below 2^32 and plain number arithmetic is exact. Varints are written as LEB128 groups of 8 bits, unaligned.
 */
import { readVarint, unzigzag, zigzag } from './varint.js';

const CHUNK_BITS = 24;
const CHUNK = 2 ** CHUNK_BITS;

/** Bits needed to write `value` (a non-negative safe integer): 0 for 0. */
export function bitWidth(value: number): number {
  let width = 0;
  for (let rest = value; rest >= 1; rest = Math.floor(rest / 2)) width++;
  return width;
}

export class BitWriter {
  private buffer = new Uint8Array(256);
  private length = 0;
  private acc = 0;
  private accBits = 0;

  /** Writes the low `width` bits of `value` (0 ≤ value < 2^width, width ≤ 53). */
  bits(value: number, width: number): void {
    let rest = value;
    let left = width;
    while (left > 0) {
      const take = Math.min(left, CHUNK_BITS);
      const part = take === CHUNK_BITS ? rest % CHUNK : rest % 2 ** take;
      rest = Math.floor(rest / 2 ** take);
      left -= take;
      this.acc += part * 2 ** this.accBits;
      this.accBits += take;
      while (this.accBits >= 8) this.flushByte();
    }
  }

  uint(value: number): void {
    let rest = value;
    while (rest >= 0x80) {
      this.bits((rest % 0x80) | 0x80, 8);
      rest = Math.floor(rest / 0x80);
    }
    this.bits(rest, 8);
  }

  sint(value: number): void {
    this.uint(zigzag(value));
  }

  /** The bytes written; the last one is padded with zero bits. */
  toBytes(): Uint8Array {
    const out = new Uint8Array(this.length + (this.accBits > 0 ? 1 : 0));
    out.set(this.buffer.subarray(0, this.length));
    if (this.accBits > 0) out[this.length] = this.acc;
    return out;
  }

  private flushByte(): void {
    if (this.length === this.buffer.length) {
      const grown = new Uint8Array(this.buffer.length * 2);
      grown.set(this.buffer);
      this.buffer = grown;
    }
    this.buffer[this.length++] = this.acc % 256;
    this.acc = Math.floor(this.acc / 256);
    this.accBits -= 8;
  }
}

export class BitReader {
  private offset = 0;
  private acc = 0;
  private accBits = 0;

  constructor(private readonly buffer: Uint8Array) {}

  bits(width: number): number {
    let value = 0;
    let scale = 1;
    let left = width;
    while (left > 0) {
      const take = Math.min(left, CHUNK_BITS);
      while (this.accBits < take) {
        if (this.offset >= this.buffer.length) throw new RangeError('truncated bit stream');
        this.acc += this.buffer[this.offset++]! * 2 ** this.accBits;
        this.accBits += 8;
      }
      const unit = 2 ** take;
      value += (this.acc % unit) * scale;
      this.acc = Math.floor(this.acc / unit);
      this.accBits -= take;
      scale *= unit;
      left -= take;
    }
    return value;
  }

  uint(): number {
    return readVarint(() => this.bits(8));
  }

  sint(): number {
    return unzigzag(this.uint());
  }
}
