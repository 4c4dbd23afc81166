// A flatbuffer verifier, after flatbuffers' C++ Verifier (include/flatbuffers/verifier.h): before any generated
// accessor touches the bytes, every table, vtable, vector and string reachable through the fields of a schema is
// checked to lie inside the buffer. The JavaScript runtime does no checks of its own (an out-of-range read yields
// undefined → 0, a huge vector length makes a loop run for ever), so decoding untrusted files goes through here.
// Offsets are read as the runtime reads them (signed int32 / int16), so what is verified is what it will see.
import { ProtoError } from '../errors.js';

/** One field of a table, by vtable slot. A union takes two slots: `unionType` then `union`. */
export type FieldSpec =
  | { kind: 'scalar'; bytes: 1 | 2 | 4 | 8 }
  | { kind: 'string' }
  | { kind: 'vector'; elementBytes: 1 | 2 | 4 | 8 }
  | { kind: 'table'; table: TableSpec }
  | { kind: 'tables'; table: TableSpec }
  | { kind: 'unionType' }
  | { kind: 'union'; members: Readonly<Record<number, TableSpec>> };

export interface TableSpec {
  name: string;
  /** Field k of the schema at index k (vtable offset 4 + 2k). */
  fields: readonly FieldSpec[];
}

export interface VerifyLimits {
  /** Nesting depth of tables. */
  maxDepth: number;
  /** Tables visited in all; bounds the work even when offsets are shared (a DAG can reach a table many times). */
  maxTables: number;
}

const OFFSET_BYTES = 4;

class Verifier {
  private readonly view: DataView;
  private tables = 0;

  constructor(private readonly bytes: Uint8Array, private readonly limits: VerifyLimits) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  fail(where: string, reason: string): never {
    throw new ProtoError('PROTO_ERR_BAD_TFLITE', `${where}: ${reason}`);
  }

  private inBounds(pos: number, size: number): boolean {
    return pos >= 0 && pos + size <= this.bytes.length;
  }

  /** Follows the uoffset stored at `pos`. Referenced objects always lie after their referrer (rel > 0). */
  follow(pos: number, where: string): number {
    const rel = this.view.getInt32(pos, true);
    if (rel <= 0) this.fail(where, `bad offset ${rel} at byte ${pos}`);
    const target = pos + rel;
    if (!this.inBounds(target, OFFSET_BYTES)) this.fail(where, `offset at byte ${pos} points past the end (${target})`);
    return target;
  }

  /** A vector's element count, checked to fit the buffer; returns the first element's position. */
  vector(pos: number, elementBytes: number, where: string): { start: number; length: number } {
    const target = this.follow(pos, where);
    const length = this.view.getUint32(target, true);
    const room = this.bytes.length - target - OFFSET_BYTES;
    if (length > room / elementBytes) this.fail(where, `vector of ${length} × ${elementBytes} bytes at byte ${target} overruns the file`);
    return { start: target + OFFSET_BYTES, length };
  }

  table(pos: number, spec: TableSpec, depth: number, where: string): void {
    if (depth > this.limits.maxDepth) this.fail(where, `tables nested deeper than ${this.limits.maxDepth}`);
    this.tables += 1;
    if (this.tables > this.limits.maxTables) this.fail(where, `more than ${this.limits.maxTables} tables`);
    if (!this.inBounds(pos, OFFSET_BYTES)) this.fail(where, `table at byte ${pos} is outside the file`);
    const vtable = pos - this.view.getInt32(pos, true);
    if (!this.inBounds(vtable, 4)) this.fail(where, `vtable at byte ${vtable} is outside the file`);
    const vtableBytes = this.view.getInt16(vtable, true);
    const tableBytes = this.view.getInt16(vtable + 2, true);
    if (vtableBytes < 4 || vtableBytes % 2 !== 0 || !this.inBounds(vtable, vtableBytes)) {
      this.fail(where, `bad vtable size ${vtableBytes} at byte ${vtable}`);
    }
    if (tableBytes < OFFSET_BYTES || !this.inBounds(pos, tableBytes)) this.fail(where, `bad table size ${tableBytes} at byte ${pos}`);
    let unionType = 0;
    spec.fields.forEach((field, slot) => {
      const entry = 4 + 2 * slot;
      const offset = entry + 2 <= vtableBytes ? this.view.getInt16(vtable + entry, true) : 0;
      if (offset === 0) {
        if (field.kind === 'unionType') unionType = 0;
        return;
      }
      const fieldWhere = `${where}.${spec.name}[${slot}]`;
      const size = field.kind === 'scalar' ? field.bytes : field.kind === 'unionType' ? 1 : OFFSET_BYTES;
      if (offset < 0 || offset + size > tableBytes) this.fail(fieldWhere, `field offset ${offset} outside its table of ${tableBytes} bytes`);
      this.field(pos + offset, field, depth, fieldWhere, unionType);
      if (field.kind === 'unionType') unionType = this.bytes[pos + offset];
    });
  }

  private field(pos: number, field: FieldSpec, depth: number, where: string, unionType: number): void {
    switch (field.kind) {
      case 'scalar':
      case 'unionType':
        return;
      case 'vector':
        this.vector(pos, field.elementBytes, where);
        return;
      case 'string': {
        const { start, length } = this.vector(pos, 1, where);
        if (!this.inBounds(start + length, 1) || this.bytes[start + length] !== 0) this.fail(where, 'string without its terminating zero');
        return;
      }
      case 'table':
        this.table(this.follow(pos, where), field.table, depth + 1, where);
        return;
      case 'tables': {
        const { start, length } = this.vector(pos, OFFSET_BYTES, where);
        for (let i = 0; i < length; i++) {
          this.table(this.follow(start + i * OFFSET_BYTES, where), field.table, depth + 1, `${where}[${i}]`);
        }
        return;
      }
      case 'union': {
        // A member this subset does not know is left unread (the decoder refuses its operator); a known one is
        // verified like any table.
        const member = field.members[unionType];
        if (member) this.table(this.follow(pos, where), member, depth + 1, where);
        else this.follow(pos, where);
      }
    }
  }
}

/**
 * Verifies `bytes` as a flatbuffer with root table `root` and the 4-byte file identifier `identifier`; throws
 * ProtoError PROTO_ERR_BAD_TFLITE with the reason and place of the first violation.
 */
export function verifyFlatbuffer(bytes: Uint8Array, root: TableSpec, identifier: string, limits: VerifyLimits): void {
  const verifier = new Verifier(bytes, limits);
  if (bytes.length < 2 * OFFSET_BYTES) verifier.fail('file', `${bytes.length} bytes is too short for a flatbuffer`);
  const found = String.fromCharCode(...bytes.subarray(OFFSET_BYTES, 2 * OFFSET_BYTES));
  if (found !== identifier) verifier.fail('file', `file identifier is ${JSON.stringify(found)}, expected "${identifier}"`);
  verifier.table(verifier.follow(0, root.name), root, 0, root.name);
}
