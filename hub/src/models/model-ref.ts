/**
 * The ModelRef a command points a device at (fleet.proto): a version's artifact in a downlink encoding, which the
 * device fetches in chunks over ff/v1/dev/{id}/fetch. One builder for every capability that sends devices a model
 * (round train and eval tasks, calibration tasks).
 */
import { wireEncodingOf, type Encoding, type ModelRefProps } from '@fedfleet/proto';
import type { BlobStore } from '../store/blobs.js';
import type { ModelRegistry } from './model-registry.js';

/** Chunk size suggested to devices for model downloads. */
export const MODEL_CHUNK_SIZE_BYTES = 64 * 1024;

export interface ModelRefDeps {
  registry: Pick<ModelRegistry, 'getVersion' | 'downlinkArtifact'>;
  blobs: Pick<BlobStore, 'info'>;
}

/** A version's ModelRef in `encoding`; `sha256` names an artifact already chosen for it (a round's downlink artifact). */
export async function modelRefOf(deps: ModelRefDeps, versionId: string, encoding: Encoding, sha256?: string): Promise<ModelRefProps> {
  const version = deps.registry.getVersion(versionId);
  const artifact = sha256 ? { sha256, sizeBytes: deps.blobs.info(sha256)?.sizeBytes ?? 0 } : await deps.registry.downlinkArtifact(versionId, encoding);
  return {
    modelId: version.modelId, versionId, sha256: artifact.sha256, sizeBytes: artifact.sizeBytes, encoding: wireEncodingOf(encoding),
    chunkSize: MODEL_CHUNK_SIZE_BYTES, paramCount: version.paramCount, format: version.format,
  };
}

/** The ModelRef of a version's stored int8 .tflite (`sha256`: a quantization's artifact), run with the integer kernels. */
export async function int8TfliteRefOf(deps: ModelRefDeps, versionId: string, sha256: string): Promise<ModelRefProps> {
  return { ...(await modelRefOf(deps, versionId, 'int8', sha256)), format: 'tflite' };
}
