/**
 * The model registry (DESIGN §3, §5): models, and versions with lineage (parent version, producing round and
 * campaign, metrics, sha256). A version's bytes are one fp32 `ModelBlob` (topology + weights) in the blob store;
 * downlink copies in fp16 / int8 (kernels per output channel) are derived on demand and stored by content address
 * too. A version's `quantization` column holds an `Encoding` name (proto/src/encoding.ts), served as `encoding`.
 */
import { randomUUID } from 'node:crypto';
import {
  decodeModelBlob, encodeModelBlob, paramCount, wireEncodingOf, type Encoding, type ModelWeights,
} from '@fedfleet/proto';
import type { Clock } from '../clock.js';
import { HubError } from '../errors.js';
import type { Store } from '../store/store.js';

export const MODEL_BLOB_MEDIA_TYPE = 'application/vnd.fedfleet.model-blob+protobuf';
export const MODEL_FORMAT = 'tfjs-layers';

export interface ModelRecord {
  id: string;
  name: string;
  architecture: string;
  description: string;
  inputShape: number[];
  numClasses: number;
  paramCount: number;
  createdAt: string;
  latestVersion: number;
  latestVersionId: string | null;
}

export interface VersionRecord {
  id: string;
  modelId: string;
  version: number;
  parentVersionId: string | null;
  roundId: string | null;
  campaignId: string | null;
  source: 'init' | 'import' | 'round';
  format: string;
  /** Encoding of the stored artifact's weights (always fp32 today; downlink copies are derived). */
  encoding: Encoding;
  /** @deprecated The same value as `encoding`, kept for API clients written before the one vocabulary. */
  quantization: Encoding;
  sha256: string;
  sizeBytes: number;
  paramCount: number;
  metrics: Record<string, unknown>;
  createdAt: string;
}

export interface ModelContent {
  topologyJson: string;
  weights: ModelWeights;
}

export interface NewModel {
  name: string;
  architecture: string;
  description?: string;
  inputShape: number[];
  numClasses: number;
  content: ModelContent;
  source: 'init' | 'import';
  metrics?: Record<string, unknown>;
}

export interface NewVersion {
  modelId: string;
  parentVersionId: string;
  roundId?: string;
  campaignId?: string;
  weights: ModelWeights;
  metrics?: Record<string, unknown>;
  /**
   * Checked in the transaction that inserts the version: when it returns false (e.g. the round was cancelled while
   * the artifact was written) nothing is registered and {@link ModelRegistry.addRoundVersion} resolves to undefined.
   */
  onlyIf?: () => boolean;
}

interface ModelRow {
  id: string; name: string; architecture: string; description: string; input_shape: string; num_classes: number;
  param_count: number; created_at_ms: number; latest_version: number | null; latest_version_id: string | null;
}
interface VersionRow {
  id: string; model_id: string; version: number; parent_version_id: string | null; round_id: string | null;
  campaign_id: string | null; source: VersionRecord['source']; format: string; quantization: Encoding;
  artifact_sha256: string; size_bytes: number; param_count: number; metrics: string; created_at_ms: number;
}

const MODEL_SELECT = `
  SELECT m.*, v.version AS latest_version, v.id AS latest_version_id
  FROM models m
  LEFT JOIN model_versions v ON v.model_id = m.id AND v.version = (SELECT MAX(version) FROM model_versions WHERE model_id = m.id)`;

export class ModelRegistry {
  private readonly content = new Map<string, ModelContent>();

  constructor(private readonly store: Store, private readonly clock: Clock) {}

  /** Registers a model and its first version (from a built-in architecture or an import) in one transaction. */
  async create(input: NewModel): Promise<{ model: ModelRecord; version: VersionRecord }> {
    if (this.findModel(input.name)) {
      throw new HubError('HUB_ERR_MODEL_EXISTS', { message: `a model named ${JSON.stringify(input.name)} exists` });
    }
    const blob = encodeModelBlob(input.content, wireEncodingOf('fp32'));
    const artifact = await this.store.blobs.put(blob, MODEL_BLOB_MEDIA_TYPE);
    const modelId = randomUUID();
    const versionId = randomUUID();
    const now = this.clock.now();
    const params = paramCount(input.content.weights);
    this.store.transaction(() => {
      this.store.db
        .prepare(`INSERT INTO models (id, name, architecture, description, input_shape, num_classes, param_count, created_at_ms)
                  VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
        .run(modelId, input.name, input.architecture, input.description ?? '', JSON.stringify(input.inputShape), input.numClasses, params, now);
      this.insertVersion({
        id: versionId, modelId, version: 1, parentVersionId: null, roundId: null, campaignId: null, source: input.source,
        sha256: artifact.sha256, sizeBytes: artifact.sizeBytes, paramCount: params, metrics: input.metrics ?? {}, now,
      });
    });
    this.content.set(versionId, input.content);
    return { model: this.getModel(modelId), version: this.getVersion(versionId) };
  }

  /**
   * Registers the version a round produced. Idempotent by round: a hub that crashed after registering and
   * before committing the round gets the same version back instead of a second one. Undefined when `onlyIf` said no.
   */
  async addRoundVersion(input: NewVersion): Promise<VersionRecord | undefined> {
    if (input.roundId) {
      const existing = this.store.db.prepare<[string], { id: string }>('SELECT id FROM model_versions WHERE round_id = ?').get(input.roundId);
      if (existing) return this.getVersion(existing.id);
    }
    const parent = this.getVersion(input.parentVersionId);
    const { topologyJson } = await this.loadContent(parent.id);
    const content = { topologyJson, weights: input.weights };
    const artifact = await this.store.blobs.put(encodeModelBlob(content, wireEncodingOf('fp32')), MODEL_BLOB_MEDIA_TYPE);
    const versionId = randomUUID();
    const inserted = this.store.transaction(() => {
      if (input.onlyIf && !input.onlyIf()) return false;
      const next = this.store.db
        .prepare<[string], { next: number }>('SELECT COALESCE(MAX(version), 0) + 1 AS next FROM model_versions WHERE model_id = ?')
        .get(input.modelId)!.next;
      this.insertVersion({
        id: versionId, modelId: input.modelId, version: next, parentVersionId: parent.id, roundId: input.roundId ?? null,
        campaignId: input.campaignId ?? null, source: 'round', sha256: artifact.sha256, sizeBytes: artifact.sizeBytes,
        paramCount: paramCount(input.weights), metrics: input.metrics ?? {}, now: this.clock.now(),
      });
      return true;
    });
    if (!inserted) return undefined;
    this.content.set(versionId, content);
    this.trimCache();
    return this.getVersion(versionId);
  }

  /** Merges `metrics` into a version's metrics (evaluation results arrive after registration). */
  updateMetrics(versionId: string, metrics: Record<string, unknown>): VersionRecord {
    const version = this.getVersion(versionId);
    this.store.db.prepare('UPDATE model_versions SET metrics = ? WHERE id = ?').run(JSON.stringify({ ...version.metrics, ...metrics }), versionId);
    return this.getVersion(versionId);
  }

  listModels(): ModelRecord[] {
    return this.store.db.prepare<[], ModelRow>(`${MODEL_SELECT} ORDER BY m.created_at_ms, m.name`).all().map(toModel);
  }

  /** By id or by name. */
  findModel(idOrName: string): ModelRecord | undefined {
    const row = this.store.db.prepare<[string, string], ModelRow>(`${MODEL_SELECT} WHERE m.id = ? OR m.name = ?`).get(idOrName, idOrName);
    return row && toModel(row);
  }

  getModel(idOrName: string): ModelRecord {
    const model = this.findModel(idOrName);
    if (!model) throw new HubError('HUB_ERR_MODEL_NOT_FOUND', { message: `no model ${JSON.stringify(idOrName)}` });
    return model;
  }

  listVersions(modelId: string): VersionRecord[] {
    return this.store.db
      .prepare<[string], VersionRow>('SELECT * FROM model_versions WHERE model_id = ? ORDER BY version')
      .all(modelId)
      .map(toVersion);
  }

  getVersion(versionId: string): VersionRecord {
    const row = this.store.db.prepare<[string], VersionRow>('SELECT * FROM model_versions WHERE id = ?').get(versionId);
    if (!row) throw new HubError('HUB_ERR_VERSION_NOT_FOUND', { message: `no model version ${JSON.stringify(versionId)}` });
    return toVersion(row);
  }

  /** A version of a model by number (`3`), by id, or `latest`. */
  resolveVersion(modelIdOrName: string, ref: string | number): VersionRecord {
    const model = this.getModel(modelIdOrName);
    if (ref === 'latest') {
      if (!model.latestVersionId) throw new HubError('HUB_ERR_VERSION_NOT_FOUND', { message: `model ${model.name} has no versions` });
      return this.getVersion(model.latestVersionId);
    }
    const number = typeof ref === 'number' ? ref : /^\d+$/.test(ref) ? Number(ref) : undefined;
    const row = number === undefined
      ? this.store.db.prepare<[string, string], VersionRow>('SELECT * FROM model_versions WHERE model_id = ? AND id = ?').get(model.id, String(ref))
      : this.store.db.prepare<[string, number], VersionRow>('SELECT * FROM model_versions WHERE model_id = ? AND version = ?').get(model.id, number);
    if (!row) throw new HubError('HUB_ERR_VERSION_NOT_FOUND', { message: `model ${model.name} has no version ${ref}` });
    return toVersion(row);
  }

  /** Topology and fp32 weights of a version (cached: rounds read the current version every round). */
  async loadContent(versionId: string): Promise<ModelContent> {
    const cached = this.content.get(versionId);
    if (cached) return cached;
    const version = this.getVersion(versionId);
    const bytes = await this.store.blobs.get(version.sha256);
    if (!bytes) throw new HubError('HUB_ERR_ARTIFACT_NOT_FOUND', { message: `artifact ${version.sha256} of version ${versionId} is missing` });
    const content = decodeModelBlob(bytes);
    this.content.set(versionId, content);
    this.trimCache();
    return content;
  }

  /** The version's blob in a downlink encoding (fp32 is the stored artifact itself), stored by content address. */
  async downlinkArtifact(versionId: string, encoding: Encoding): Promise<{ sha256: string; sizeBytes: number }> {
    const version = this.getVersion(versionId);
    if (encoding === 'fp32') return { sha256: version.sha256, sizeBytes: version.sizeBytes };
    const content = await this.loadContent(versionId);
    return this.store.blobs.put(encodeModelBlob(content, wireEncodingOf(encoding)), MODEL_BLOB_MEDIA_TYPE);
  }

  private insertVersion(v: {
    id: string; modelId: string; version: number; parentVersionId: string | null; roundId: string | null;
    campaignId: string | null; source: VersionRecord['source']; sha256: string; sizeBytes: number; paramCount: number;
    metrics: Record<string, unknown>; now: number;
  }): void {
    this.store.db
      .prepare(`INSERT INTO model_versions (id, model_id, version, parent_version_id, round_id, campaign_id, source, format,
                  quantization, artifact_sha256, size_bytes, param_count, metrics, created_at_ms)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'fp32', ?, ?, ?, ?, ?)`)
      .run(v.id, v.modelId, v.version, v.parentVersionId, v.roundId, v.campaignId, v.source, MODEL_FORMAT, v.sha256,
        v.sizeBytes, v.paramCount, JSON.stringify(v.metrics), v.now);
  }

  private trimCache(): void {
    // A handful of versions is enough: a round reads its base version and writes the next one.
    while (this.content.size > 8) this.content.delete(this.content.keys().next().value!);
  }
}

function toModel(row: ModelRow): ModelRecord {
  return {
    id: row.id, name: row.name, architecture: row.architecture, description: row.description,
    inputShape: JSON.parse(row.input_shape) as number[], numClasses: row.num_classes, paramCount: row.param_count,
    createdAt: new Date(row.created_at_ms).toISOString(), latestVersion: row.latest_version ?? 0,
    latestVersionId: row.latest_version_id,
  };
}

function toVersion(row: VersionRow): VersionRecord {
  return {
    id: row.id, modelId: row.model_id, version: row.version, parentVersionId: row.parent_version_id, roundId: row.round_id,
    campaignId: row.campaign_id, source: row.source, format: row.format, encoding: row.quantization,
    quantization: row.quantization,
    sha256: row.artifact_sha256, sizeBytes: row.size_bytes, paramCount: row.param_count,
    metrics: JSON.parse(row.metrics) as Record<string, unknown>, createdAt: new Date(row.created_at_ms).toISOString(),
  };
}
