/**
 * `fetch` → `chunk`: chunked, resumable artifact download (DESIGN section 2). A device asks for chunk `index` of
 * a registered artifact at a chunk size of its choosing (clamped to [1 KiB, 256 KiB], default 64 KiB, and to what
 * fits in one envelope); the hub answers on the device's `chunk` topic. Unknown artifacts and out-of-range
 * indexes are answered with a `Chunk` carrying `errorCode`, so a device never waits for an answer that will not
 * come.
 */
import type { ChunkProps } from '@fedfleet/proto';
import type { HubErrorCode } from '../../errors.js';
import type { BlobStore } from '../../store/blobs.js';
import type { Broker } from '../broker.js';
import type { MessageHandler } from '../router.js';
import type { TransferMeter } from '../transfer-meter.js';

export const MIN_CHUNK_BYTES = 1024;
export const MAX_CHUNK_BYTES = 256 * 1024;
export const DEFAULT_CHUNK_BYTES = 64 * 1024;
/** Room for the envelope and Chunk fields around the data. */
const ENVELOPE_OVERHEAD_BYTES = 1024;

export function clampChunkSize(requested: number, maxPayloadBytes: number): number {
  const ceiling = Math.max(MIN_CHUNK_BYTES, Math.min(MAX_CHUNK_BYTES, maxPayloadBytes - ENVELOPE_OVERHEAD_BYTES));
  if (!requested) return Math.min(DEFAULT_CHUNK_BYTES, ceiling);
  return Math.max(MIN_CHUNK_BYTES, Math.min(ceiling, requested));
}

export interface FetchHandlerOptions {
  blobs: BlobStore;
  broker: Pick<Broker, 'sendToDevice'>;
  meter: TransferMeter;
  maxPayloadBytes: number;
}

export function createFetchHandler(options: FetchHandlerOptions): MessageHandler {
  const { blobs, broker, meter } = options;
  return async ({ deviceId, envelope }) => {
    const request = envelope.chunkRequest!;
    const sha256 = (request.sha256 ?? '').toLowerCase();
    const index = request.index ?? 0;
    const answer = (chunk: ChunkProps) => broker.sendToDevice(deviceId, 'chunk', { chunk: { sha256, index, requestId: request.requestId, ...chunk } });
    const fail = (errorCode: HubErrorCode, extra: ChunkProps = {}) => answer({ errorCode, ...extra });

    const artifact = blobs.info(sha256);
    if (!artifact) return fail('HUB_ERR_ARTIFACT_NOT_FOUND');
    const chunkSize = clampChunkSize(request.chunkSize ?? 0, options.maxPayloadBytes);
    // An empty artifact is one empty chunk, so every artifact has a chunk 0.
    const totalChunks = Math.max(1, Math.ceil(artifact.sizeBytes / chunkSize));
    const totals = { totalChunks, totalBytes: artifact.sizeBytes };
    if (index >= totalChunks) return fail('HUB_ERR_CHUNK_OUT_OF_RANGE', totals);
    const data = await blobs.readRange(sha256, index * chunkSize, chunkSize);
    if (!data) return fail('HUB_ERR_ARTIFACT_NOT_FOUND');
    await answer({ ...totals, data });
    meter.record({ deviceId, sha256, bytes: data.byteLength });
  };
}
