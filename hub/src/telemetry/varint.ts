/**
 * Zigzag LEB128 varints over plain numbers (not bigint), as in protobuf's `sint64` encoding: small magnitudes of
 * either sign take one byte. Values must be safe integers (|v| < 2^53); the packed telemetry codec only writes
 * scaled integers, so that holds for every metric's documented range.
 */
/** Zigzag mapping of a signed safe integer: 0, -1, 1, -2, … → 0, 1, 2, 3, … */
export const zigzag = (value: number): number => (value >= 0 ? value * 2 : -value * 2 - 1);

/** Reverse of {@link zigzag}. */
export const unzigzag = (zigzagged: number): number => (zigzagged % 2 === 0 ? zigzagged / 2 : -(zigzagged + 1) / 2);

/** An unsigned varint (7 bits a byte, least significant group first) from the bytes `nextByte` returns. */
export function readVarint(nextByte: () => number): number {
  let value = 0;
  let scale = 1;
  for (;;) {
    const byte = nextByte();
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return value;
    scale *= 0x80;
    if (scale > 2 ** 56) throw new RangeError('varint too long');
  }
}

export class ByteWriter {
  private buffer: Uint8Array;
  private length = 0;

  /** Starts with a copy of `initial` already written (empty by default). */
  constructor(initial: Uint8Array = new Uint8Array(0)) {
    this.buffer = new Uint8Array(Math.max(64, initial.length * 2));
    this.buffer.set(initial);
    this.length = initial.length;
  }

  /** Unsigned varint; `value` must be a non-negative safe integer. */
  uint(value: number): void {
    this.ensure(8);
    let rest = value;
    while (rest >= 0x80) {
      this.buffer[this.length++] = (rest % 0x80) | 0x80;
      rest = Math.floor(rest / 0x80);
    }
    this.buffer[this.length++] = rest;
  }

  /** Signed varint, zigzag-mapped. */
  sint(value: number): void {
    this.uint(zigzag(value));
  }

  bytes(count: Uint8Array): void {
    this.ensure(count.length);
    this.buffer.set(count, this.length);
    this.length += count.length;
  }

  get byteLength(): number {
    return this.length;
  }

  /** A copy of what was written. */
  toBytes(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }

  private ensure(extra: number): void {
    if (this.length + extra <= this.buffer.length) return;
    const grown = new Uint8Array(Math.max(this.buffer.length * 2, this.length + extra));
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
  }
}

export class ByteReader {
  private offset = 0;

  constructor(private readonly buffer: Uint8Array) {}

  get done(): boolean {
    return this.offset >= this.buffer.length;
  }

  uint(): number {
    return readVarint(() => {
      if (this.offset >= this.buffer.length) throw new RangeError('truncated varint');
      return this.buffer[this.offset++]!;
    });
  }

  sint(): number {
    return unzigzag(this.uint());
  }

  bytes(count: number): Uint8Array {
    if (this.offset + count > this.buffer.length) throw new RangeError('truncated bytes');
    const slice = this.buffer.subarray(this.offset, this.offset + count);
    this.offset += count;
    return slice;
  }
}
