/**
 * A model version as a TensorFlow Lite flatbuffer (issue 9 item 5), for `GET …/artifact?format=tflite` and
 * `fedfleet models export`. The float model is derived from the version's fp32 ModelBlob once per version and kept in
 * the blob store by content address (a version never changes, so neither does its export); the int8 model is the
 * artifact of the version's latest completed quantization (hub/src/quantize builds and stores it), never built here.
 */
import { encodeTfliteFloat, floatModelFromTopology, isProtoError, type Encoding, type FloatModel } from '@fedfleet/proto';
import { HubError } from '../errors.js';
import type { BlobStore } from '../store/blobs.js';
import type { ModelRegistry, VersionRecord } from './model-registry.js';

/** Media type the blob store records for .tflite files (there is no registered one; TFLite tools ignore it). */
export const TFLITE_MEDIA_TYPE = 'application/vnd.tflite';

/** PROTO_ERR_* codes that mean the topology holds something a .tflite file cannot express here. */
const UNSUPPORTED_CODES: ReadonlySet<string> = new Set(['PROTO_ERR_UNSUPPORTED_LAYER', 'PROTO_ERR_BAD_TOPOLOGY']);

/**
 * Runs a conversion of a topology (to a FloatModel, an int8 graph, a .tflite) and reports what it cannot express as
 * HUB_ERR_EXPORT_UNSUPPORTED: `<what>: <the proto message naming the layer>`, the PROTO_ERR_* in `details.protoCode`.
 */
export function convertingTopology<T>(what: string, convert: () => T): T {
  try {
    return convert();
  } catch (error) {
    if (isProtoError(error) && UNSUPPORTED_CODES.has(error.code)) {
      throw new HubError('HUB_ERR_EXPORT_UNSUPPORTED', { message: `${what}: ${error.message}`, details: { protoCode: error.code } });
    }
    throw error;
  }
}

export interface StoredArtifact {
  sha256: string;
  sizeBytes: number;
}

/** What the exporter needs of the quantization service (`app.quantizations`). */
export interface QuantizedArtifacts {
  latestDone(versionId: string): { artifact?: StoredArtifact } | undefined;
}

export interface TfliteExport extends StoredArtifact {
  /** `<model>-v<N>.tflite`, `<model>-v<N>-int8.tflite`: what a download is saved as. */
  fileName: string;
}

export interface TfliteExporterOptions {
  models: ModelRegistry;
  blobs: BlobStore;
  /** The quantization service, looked up per request (its plugin may register after the models plugin). */
  quantizations: () => QuantizedArtifacts | undefined;
  /** The float encoder (tests count its calls). Default encodeTfliteFloat. */
  encodeFloat?: (model: FloatModel, options: { description: string }) => Uint8Array;
}

/** A model name as a download file name's stem: anything a header or a file system might choke on replaced. */
export function safeFileStem(modelName: string): string {
  return modelName.replace(/[^A-Za-z0-9._-]/g, '_');
}

/** A download file name: `<model>-v<N>.tflite`, `<model>-v<N>-int8.tflite`. */
export function tfliteFileName(modelName: string, version: number, encoding: Encoding): string {
  return `${safeFileStem(modelName)}-v${version}${encoding === 'int8' ? '-int8' : ''}.tflite`;
}

export class TfliteExporter {
  /** Float export per version id. A promise, so concurrent first requests encode once; bounded by the versions exported. */
  private readonly floatExports = new Map<string, Promise<StoredArtifact>>();
  private readonly encodeFloat: NonNullable<TfliteExporterOptions['encodeFloat']>;

  constructor(private readonly options: TfliteExporterOptions) {
    this.encodeFloat = options.encodeFloat ?? encodeTfliteFloat;
  }

  /**
   * The version as a stored .tflite: fp32 is the float model (float32 input and output), int8 the fully int8 model
   * (int8 input and output, as TFLite Micro expects). fp16 is not offered.
   * @throws HubError HUB_ERR_NOT_QUANTIZED (int8 before a completed quantization), HUB_ERR_EXPORT_UNSUPPORTED (a layer
   *   the export does not support, named in the message), HUB_ERR_VALIDATION (fp16).
   */
  async export(version: VersionRecord, modelName: string, encoding: Encoding): Promise<TfliteExport> {
    const fileName = tfliteFileName(modelName, version.version, encoding);
    if (encoding === 'fp32') return { ...(await this.floatExport(version, modelName)), fileName };
    if (encoding === 'int8') return { ...this.int8Export(version, modelName), fileName };
    throw new HubError('HUB_ERR_VALIDATION', {
      message: 'format=tflite takes encoding=fp32 (the float model) or encoding=int8 (the quantized model); fp16 is not offered',
    });
  }

  private int8Export(version: VersionRecord, modelName: string): StoredArtifact {
    const artifact = this.options.quantizations()?.latestDone(version.id)?.artifact;
    if (!artifact) {
      throw new HubError('HUB_ERR_NOT_QUANTIZED', {
        message: `version ${version.version} of ${modelName} has no completed int8 quantization; ` +
          `run \`fedfleet models quantize ${modelName} --version ${version.version} --calibrate fleet|dataset:<name>\` first`,
      });
    }
    return { sha256: artifact.sha256, sizeBytes: artifact.sizeBytes };
  }

  private floatExport(version: VersionRecord, modelName: string): Promise<StoredArtifact> {
    const known = this.floatExports.get(version.id);
    // Re-derive only if the stored file went away (the memo outlives nothing but this process).
    if (known) return known.then((artifact) => (this.options.blobs.has(artifact.sha256) ? artifact : this.deriveFloat(version, modelName)));
    return this.deriveFloat(version, modelName);
  }

  private deriveFloat(version: VersionRecord, modelName: string): Promise<StoredArtifact> {
    const derived = (async () => {
      const { topologyJson, weights } = await this.options.models.loadContent(version.id);
      const bytes = convertingTopology(`version ${version.version} of ${modelName} cannot be exported as .tflite`, () =>
        this.encodeFloat(floatModelFromTopology(topologyJson, weights), { description: `fedfleet ${modelName} v${version.version} float32` }));
      return this.options.blobs.put(bytes, TFLITE_MEDIA_TYPE);
    })();
    this.floatExports.set(version.id, derived);
    // A failure is not remembered: the next request tries again.
    derived.catch(() => this.floatExports.get(version.id) === derived && this.floatExports.delete(version.id));
    return derived;
  }
}
