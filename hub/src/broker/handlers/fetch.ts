/**
 * `fetch` → `chunk`: chunked, resumable artifact download (DESIGN section 2). A device asks for chunk `index` of
 * a registered artifact at a chunk size of its choosing (clamped to [1 KiB, 256 KiB], default 64 KiB, and to what
 * fits in one envelope); the hub answers on the device's `chunk` topic. Unknown artifacts and out-of-range
 * indexes are answered with a `Chunk` carrying `errorCode`, so a device never waits for an answer that will not
 * come. A device is served only the artifacts granted to it — those a command the hub sent it names
 * (store/artifact-grants.ts, granted by hub/src/commands); any other sha256 is answered exactly as an unknown one, so
 * a device learns nothing of what else the hub holds (proto/docs/mqtt-topics.md, "Who may fetch what").
 */
import { MIN_CHUNK_BYTES, type ChunkProps } from '@fedfleet/proto';
import type { Clock } from '../../clock.js';
import type { HubErrorCode } from '../../errors.js';
import { createLogThrottle } from '../../limits/log-throttle.js';
import type { HubLogger } from '../../logger.js';
import type { Counter } from '../../metrics/metrics-registry.js';
import type { ArtifactGrants } from '../../store/artifact-grants.js';
import type { BlobStore } from '../../store/blobs.js';
import type { Broker } from '../broker.js';
import type { MessageHandler } from '../router.js';
import type { TransferMeter } from '../transfer-meter.js';

export const MAX_CHUNK_BYTES = 256 * 1024;
export const DEFAULT_CHUNK_BYTES = 64 * 1024;
/** Room for the envelope and Chunk fields around the data. */
const ENVELOPE_OVERHEAD_BYTES = 1024;
/** At most one log line per device per minute about refused fetches (a device may ask for every chunk). */
const DENIED_LOG_INTERVAL_MS = 60_000;

export function clampChunkSize(requested: number, maxPayloadBytes: number): number {
  const ceiling = Math.max(MIN_CHUNK_BYTES, Math.min(MAX_CHUNK_BYTES, maxPayloadBytes - ENVELOPE_OVERHEAD_BYTES));
  if (!requested) return Math.min(DEFAULT_CHUNK_BYTES, ceiling);
  return Math.max(MIN_CHUNK_BYTES, Math.min(ceiling, requested));
}

export interface FetchHandlerOptions {
  blobs: BlobStore;
  /** Which artifacts each device may fetch. */
  grants: Pick<ArtifactGrants, 'allows'>;
  /** Counts refused requests (one per chunk request). */
  denied: Counter;
  log: HubLogger;
  clock: Clock;
  broker: Pick<Broker, 'sendToDevice'>;
  meter: TransferMeter;
  maxPayloadBytes: number;
}

export function createFetchHandler(options: FetchHandlerOptions): MessageHandler {
  const { blobs, grants, broker, meter, log, clock } = options;
  const deniedLog = createLogThrottle(DENIED_LOG_INTERVAL_MS);
  return async ({ deviceId, envelope }) => {
    const request = envelope.chunkRequest!;
    const sha256 = (request.sha256 ?? '').toLowerCase();
    const index = request.index ?? 0;
    const answer = (chunk: ChunkProps) => broker.sendToDevice(deviceId, 'chunk', { chunk: { sha256, index, requestId: request.requestId, ...chunk } });
    const fail = (errorCode: HubErrorCode, extra: ChunkProps = {}) => answer({ errorCode, ...extra });

    if (!grants.allows(deviceId, sha256)) {
      options.denied.inc();
      const refused = deniedLog.note(deviceId, clock.now());
      if (refused) log.warn({ deviceId, sha256: sha256.slice(0, 64), refused }, 'artifact fetch refused: not granted to this device');
      return fail('HUB_ERR_ARTIFACT_NOT_FOUND');
    }
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
