/**
 * Validation sets for hub-side evaluation (DESIGN §4): labelled examples an operator uploads once and campaigns name
 * (`validationSet`), so every committed version is also measured on the same held-out data at the hub. The layout is
 * the agent's sample format (agent/docs/data-format.md): float32 features, one label byte per example.
 */
import { createHash, randomUUID } from 'node:crypto';
import { decodeFloat32Le, shapeSize } from '@fedfleet/proto';
import type { Clock } from '../clock.js';
import { HubError } from '../errors.js';
import type { Store } from '../store/store.js';

export interface DatasetRecord {
  id: string;
  name: string;
  description: string;
  inputShape: number[];
  numClasses: number;
  examples: number;
  sha256: string;
  createdAt: string;
}

/** The examples of a validation set, in the agent's `Dataset` shape. */
export interface ValidationData {
  x: Float32Array;
  y: Uint8Array;
  count: number;
  inputShape: number[];
  numClasses: number;
}

export interface NewDataset {
  name: string;
  description?: string | undefined;
  inputShape: number[];
  numClasses: number;
  /** `examples × prod(inputShape)` float32 values, little-endian. */
  x: Uint8Array;
  /** One label per example. */
  y: Uint8Array;
}

interface DatasetRow {
  id: string;
  name: string;
  description: string;
  input_shape: string;
  num_classes: number;
  examples: number;
  sha256: string;
  created_at_ms: number;
}

const COLUMNS = 'id, name, description, input_shape, num_classes, examples, sha256, created_at_ms';
/** Loaded validation sets kept in memory (each is read whole for every evaluation otherwise). */
const CACHE_SIZE = 2;

function toRecord(row: DatasetRow): DatasetRecord {
  return {
    id: row.id, name: row.name, description: row.description, inputShape: JSON.parse(row.input_shape) as number[],
    numClasses: row.num_classes, examples: row.examples, sha256: row.sha256, createdAt: new Date(row.created_at_ms).toISOString(),
  };
}

function invalid(message: string): HubError {
  return new HubError('HUB_ERR_DATASET_INVALID', { message });
}

/** Checks the bytes against the shape; returns the example count. Every value finite, every label in range. */
function validate(input: NewDataset): number {
  const { inputShape, numClasses, x, y } = input;
  if (!Array.isArray(inputShape) || inputShape.length === 0 || !inputShape.every((d) => Number.isInteger(d) && d > 0)) {
    throw invalid(`inputShape must be positive integers, got ${JSON.stringify(inputShape)}`);
  }
  if (!Number.isInteger(numClasses) || numClasses < 2 || numClasses > 256) throw invalid(`numClasses must be 2 to 256, got ${numClasses}`);
  const rowBytes = 4 * shapeSize(inputShape);
  if (x.byteLength === 0 || x.byteLength % rowBytes !== 0) {
    throw invalid(`x has ${x.byteLength} bytes, not a positive multiple of ${rowBytes} (4 × prod(inputShape))`);
  }
  const count = x.byteLength / rowBytes;
  if (y.byteLength !== count) throw invalid(`x holds ${count} examples but y has ${y.byteLength} labels`);
  const view = new DataView(x.buffer, x.byteOffset, x.byteLength);
  for (let i = 0; i < x.byteLength; i += 4) {
    if (!Number.isFinite(view.getFloat32(i, true))) throw invalid(`x value ${i / 4} is not finite`);
  }
  for (let i = 0; i < count; i++) {
    if (y[i]! >= numClasses) throw invalid(`label ${i} is ${y[i]}, not below numClasses ${numClasses}`);
  }
  return count;
}

export class DatasetRegistry {
  private readonly cache = new Map<string, ValidationData>();

  constructor(private readonly store: Store, private readonly clock: Clock) {}

  create(input: NewDataset): DatasetRecord {
    if (typeof input.name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(input.name)) {
      throw invalid(`name must be 1 to 128 letters, digits, '.', '_' or '-', got ${JSON.stringify(input.name)}`);
    }
    const examples = validate(input);
    if (this.find(input.name)) throw new HubError('HUB_ERR_DATASET_EXISTS', { message: `a data set named ${JSON.stringify(input.name)} exists` });
    const id = randomUUID();
    const sha256 = createHash('sha256').update(input.x).update(input.y).digest('hex');
    this.store.db
      .prepare(`INSERT INTO datasets (id, name, description, input_shape, num_classes, examples, x, y, sha256, created_at_ms)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(id, input.name, input.description ?? '', JSON.stringify(input.inputShape), input.numClasses, examples,
        Buffer.from(input.x.buffer, input.x.byteOffset, input.x.byteLength), Buffer.from(input.y.buffer, input.y.byteOffset, input.y.byteLength),
        sha256, this.clock.now());
    return this.get(id);
  }

  list(): DatasetRecord[] {
    return this.store.db.prepare<[], DatasetRow>(`SELECT ${COLUMNS} FROM datasets ORDER BY created_at_ms, name`).all().map(toRecord);
  }

  find(idOrName: string): DatasetRecord | undefined {
    const row = this.store.db.prepare<[string, string], DatasetRow>(`SELECT ${COLUMNS} FROM datasets WHERE id = ? OR name = ?`).get(idOrName, idOrName);
    return row && toRecord(row);
  }

  get(idOrName: string): DatasetRecord {
    const found = this.find(idOrName);
    if (!found) throw new HubError('HUB_ERR_DATASET_NOT_FOUND', { message: `no data set ${JSON.stringify(idOrName)}` });
    return found;
  }

  /** The examples of a data set (cached: validation sets are immutable). */
  load(id: string): ValidationData {
    const cached = this.cache.get(id);
    if (cached) return cached;
    const record = this.get(id);
    const row = this.store.db.prepare<[string], { x: Buffer; y: Buffer }>('SELECT x, y FROM datasets WHERE id = ?').get(record.id)!;
    // Decoded into aligned memory: a Buffer from SQLite may start at an offset that Float32Array cannot view.
    const x = decodeFloat32Le(row.x);
    const data: ValidationData = { x, y: new Uint8Array(row.y), count: record.examples, inputShape: record.inputShape, numClasses: record.numClasses };
    this.cache.set(record.id, data);
    while (this.cache.size > CACHE_SIZE) this.cache.delete(this.cache.keys().next().value!);
    return data;
  }
}
