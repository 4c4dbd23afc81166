import { createHash, randomUUID } from 'node:crypto';
import { MIN_CHUNK_BYTES, type ChunkProps } from '@fedfleet/proto';
import type { ArtifactCache } from './artifact-cache.js';
import { AgentError } from './errors.js';

/** Default of {@link FetcherOptions.maxArtifactBytes}. */
export const DEFAULT_MAX_ARTIFACT_BYTES = 256 * 1024 * 1024;

export interface ArtifactRef {
  sha256: string;
  sizeBytes: number;
}

export interface FetcherOptions {
  /** Sends one ChunkRequest on the device's `fetch` topic. */
  request: (req: { sha256: string; index: number; chunkSize: number; requestId: string }) => Promise<void>;
  cache?: ArtifactCache;
  /**
   * Bytes per chunk asked for. Default 64 KiB (fits small-buffer devices). The hub may answer with smaller chunks (it
   * clamps the size to what fits in one of its envelopes): the download then continues at the hub's size.
   */
  chunkSize?: number;
  /** Chunks in flight at once. Default 4. */
  window?: number;
  /** A chunk not answered within this is asked for again. Default 5,000 ms. */
  chunkTimeoutMs?: number;
  /** Attempts per chunk before the download fails. Default 6. */
  maxAttempts?: number;
  /**
   * Bytes of all downloads in progress together (so also the largest artifact): sizes come off the wire, and each
   * artifact is held in memory whole. Default 256 MiB.
   */
  maxArtifactBytes?: number;
}

interface Download {
  ref: ArtifactRef;
  chunkSize: number;
  totalChunks: number;
  /** False until the answer to chunk 0 told the chunk size the hub serves; until then only chunk 0 is asked for. */
  sized: boolean;
  parts: (Uint8Array | undefined)[];
  inFlight: Map<number, { requestId: string; timer: NodeJS.Timeout; attempts: number }>;
  attempts: Map<number, number>;
  next: number;
  received: number;
  resolve: (bytes: Uint8Array) => void;
  reject: (error: Error) => void;
}

/**
 * Chunked, resumable artifact download over MQTT (DESIGN §2 fetch/chunk): a bounded window of requests, each
 * chunk retried on timeout, received chunks kept across reconnects, the whole verified against its sha256.
 */
export class ArtifactFetcher {
  private readonly downloads = new Map<string, Download>();
  private readonly chunkSize: number;
  private readonly window: number;
  private readonly chunkTimeoutMs: number;
  private readonly maxAttempts: number;
  private readonly maxArtifactBytes: number;
  /** Bytes received over the wire (not from the cache). */
  bytesReceived = 0;

  constructor(private readonly options: FetcherOptions) {
    this.chunkSize = options.chunkSize ?? 64 * 1024;
    this.window = options.window ?? 4;
    this.chunkTimeoutMs = options.chunkTimeoutMs ?? 5_000;
    this.maxAttempts = options.maxAttempts ?? 6;
    this.maxArtifactBytes = options.maxArtifactBytes ?? DEFAULT_MAX_ARTIFACT_BYTES;
  }

  /**
   * @throws AgentError AGENT_ERR_FETCH_FAILED for a reference no download can satisfy (not a sha256, a size that is
   *   not a whole number of bytes or is over `maxArtifactBytes`), one that does not fit beside the downloads in
   *   progress (many commands at once, each naming a large artifact), or a hub that answers out of protocol,
   *   AGENT_ERR_INTEGRITY when the bytes are not the sha256's, AGENT_ERR_CANCELLED when `signal` aborts.
   */
  async fetch(ref: ArtifactRef, signal?: AbortSignal): Promise<Uint8Array> {
    if (!/^[0-9a-f]{64}$/.test(ref.sha256) || !Number.isSafeInteger(ref.sizeBytes) || ref.sizeBytes < 0 || ref.sizeBytes > this.maxArtifactBytes) {
      throw new AgentError('AGENT_ERR_FETCH_FAILED', `refusing artifact "${String(ref.sha256).slice(0, 64)}" of ${ref.sizeBytes} bytes: not a sha256, or not 0 to ${this.maxArtifactBytes} bytes`);
    }
    if (signal?.aborted) throw new AgentError('AGENT_ERR_CANCELLED', 'download aborted', { cause: signal.reason });
    const cached = await this.options.cache?.get(ref.sha256);
    if (cached && sha256Hex(cached) === ref.sha256) return cached;
    const existing = this.downloads.get(ref.sha256);
    if (existing) return new Promise((resolve, reject) => chain(existing, resolve, reject));
    // Checked and registered with no await in between, so concurrent fetches cannot all pass the check.
    const pendingBytes = [...this.downloads.values()].reduce((sum, d) => sum + d.ref.sizeBytes, 0);
    if (pendingBytes + ref.sizeBytes > this.maxArtifactBytes) {
      throw new AgentError('AGENT_ERR_FETCH_FAILED', `${ref.sizeBytes} bytes do not fit beside the ${pendingBytes} bytes of downloads in progress (at most ${this.maxArtifactBytes})`);
    }
    const bytes = await new Promise<Uint8Array>((resolve, reject) => {
      const totalChunks = Math.max(1, Math.ceil(ref.sizeBytes / this.chunkSize));
      const download: Download = {
        ref, chunkSize: this.chunkSize, totalChunks, sized: false, parts: new Array(totalChunks), inFlight: new Map(),
        attempts: new Map(), next: 0, received: 0, resolve, reject,
      };
      this.downloads.set(ref.sha256, download);
      signal?.addEventListener('abort', () => this.fail(download, new AgentError('AGENT_ERR_CANCELLED', 'download aborted')), { once: true });
      this.pump(download);
    });
    await this.options.cache?.put(ref.sha256, bytes);
    return bytes;
  }

  /** Feed every Chunk that arrives on the device's `chunk` topic. */
  onChunk(chunk: ChunkProps): void {
    const download = this.downloads.get(chunk.sha256 ?? '');
    if (!download) return;
    const index = chunk.index ?? 0;
    const pending = download.inFlight.get(index);
    // A late answer to an earlier attempt carries the same bytes: accept it whatever its requestId.
    if (!pending) return;
    if (chunk.errorCode) {
      this.fail(download, new AgentError('AGENT_ERR_FETCH_FAILED', `hub answered ${chunk.errorCode} for chunk ${index}`));
      return;
    }
    const data = chunk.data ?? new Uint8Array(0);
    if (!download.sized && !this.adoptChunkSize(download, chunk, data)) return;
    const expected = Math.min(download.chunkSize, download.ref.sizeBytes - index * download.chunkSize);
    if (data.byteLength !== expected || (chunk.totalBytes ?? download.ref.sizeBytes) !== download.ref.sizeBytes) {
      this.fail(download, new AgentError('AGENT_ERR_FETCH_FAILED', `chunk ${index} has ${data.byteLength} bytes, expected ${expected}`));
      return;
    }
    clearTimeout(pending.timer);
    download.inFlight.delete(index);
    if (!download.parts[index]) {
      download.parts[index] = data.slice();
      download.received += 1;
      this.bytesReceived += data.byteLength;
    }
    if (download.received === download.totalChunks) this.finish(download);
    else this.pump(download);
  }

  /**
   * Takes the chunk size the hub answered chunk 0 with for every chunk — its length when there are more, the whole
   * artifact when not: the hub clamps every request alike (to [1 KiB, what fits in its envelope],
   * hub/src/broker/handlers/fetch.ts), so asking at that size gives the same chunks. False (the download failed) when
   * the answer does not describe this artifact in whole chunks of that size.
   */
  private adoptChunkSize(download: Download, chunk: ChunkProps, data: Uint8Array): boolean {
    const { sizeBytes } = download.ref;
    const totalChunks = chunk.totalChunks || download.totalChunks;
    const chunkSize = totalChunks > 1 ? data.byteLength : Math.max(1, sizeBytes);
    const tooSmall = totalChunks > 1 && chunkSize < Math.min(MIN_CHUNK_BYTES, this.chunkSize);
    if (chunkSize === 0 || tooSmall || totalChunks !== Math.max(1, Math.ceil(sizeBytes / chunkSize))) {
      this.fail(download, new AgentError('AGENT_ERR_FETCH_FAILED', `chunk answer (${totalChunks} chunks of ${chunkSize} bytes) does not fit an artifact of ${sizeBytes} bytes`));
      return false;
    }
    download.chunkSize = chunkSize;
    download.totalChunks = totalChunks;
    download.parts.length = totalChunks;
    download.sized = true;
    return true;
  }

  private pump(download: Download): void {
    // One request until the hub's chunk size is known, then a window of them.
    const window = download.sized ? this.window : 1;
    while (download.inFlight.size < window && download.next < download.totalChunks) {
      const index = download.next++;
      if (!download.parts[index]) this.send(download, index);
    }
  }

  private send(download: Download, index: number): void {
    const attempts = (download.attempts.get(index) ?? 0) + 1;
    download.attempts.set(index, attempts);
    if (attempts > this.maxAttempts) {
      this.fail(download, new AgentError('AGENT_ERR_FETCH_FAILED', `chunk ${index} unanswered after ${this.maxAttempts} attempts`));
      return;
    }
    const requestId = randomUUID();
    const timer = setTimeout(() => {
      download.inFlight.delete(index);
      this.send(download, index);
    }, this.chunkTimeoutMs);
    download.inFlight.set(index, { requestId, timer, attempts });
    this.options
      .request({ sha256: download.ref.sha256, index, chunkSize: download.chunkSize, requestId })
      .catch(() => {
        // offline: the timer asks again once the session is back
      });
  }

  private finish(download: Download): void {
    this.downloads.delete(download.ref.sha256);
    const bytes = new Uint8Array(download.ref.sizeBytes);
    let offset = 0;
    for (const part of download.parts) {
      bytes.set(part!, offset);
      offset += part!.byteLength;
    }
    if (sha256Hex(bytes) !== download.ref.sha256) {
      download.reject(new AgentError('AGENT_ERR_INTEGRITY', `artifact ${download.ref.sha256.slice(0, 12)} failed its sha256 check`));
      return;
    }
    download.resolve(bytes);
  }

  private fail(download: Download, error: Error): void {
    if (this.downloads.get(download.ref.sha256) !== download) return;
    this.downloads.delete(download.ref.sha256);
    for (const pending of download.inFlight.values()) clearTimeout(pending.timer);
    download.reject(error);
  }

  /** Abandons every download (agent stopping). */
  close(): void {
    for (const download of [...this.downloads.values()]) this.fail(download, new AgentError('AGENT_ERR_CANCELLED', 'agent stopping'));
  }
}

function chain(download: Download, resolve: (b: Uint8Array) => void, reject: (e: Error) => void): void {
  const { resolve: r0, reject: j0 } = download;
  download.resolve = (bytes) => { r0(bytes); resolve(bytes); };
  download.reject = (error) => { j0(error); reject(error); };
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
