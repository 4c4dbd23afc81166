/**
 * The hub clamps the chunk size a device asks for to [1 KiB, what fits in one of its envelopes]
 * (hub/src/broker/handlers/fetch.ts; a hub run with `--max-payload-bytes 16384` serves 15 KiB chunks): the fetcher
 * downloads at the size the hub answers with, whatever it asked for.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ArtifactFetcher, sha256Hex } from '../src/artifact-fetcher.js';

type Req = { sha256: string; index: number; chunkSize: number; requestId: string };

/** A hub that serves chunks of `clamp(asked)` bytes, as the real one does. */
function clampingHub(bytes: Uint8Array, clamp: (asked: number) => number, fetcher: () => ArtifactFetcher) {
  const requests: Req[] = [];
  const request = async (req: Req) => {
    requests.push(req);
    const size = clamp(req.chunkSize);
    const totalChunks = Math.max(1, Math.ceil(bytes.length / size));
    const data = bytes.slice(req.index * size, Math.min(bytes.length, (req.index + 1) * size));
    setImmediate(() => fetcher().onChunk({ sha256: req.sha256, index: req.index, totalChunks, totalBytes: bytes.length, data, requestId: req.requestId }));
  };
  return { request, requests };
}

describe('ArtifactFetcher and the hub\'s chunk size', () => {
  it('continues at the smaller chunk size the hub answers with, asking for each chunk once', async () => {
    const bytes = new Uint8Array(randomBytes(10_000));
    let fetcher!: ArtifactFetcher;
    const hub = clampingHub(bytes, (asked) => Math.min(asked, 1_500), () => fetcher);
    fetcher = new ArtifactFetcher({ request: hub.request, chunkSize: 4_096 });
    expect(await fetcher.fetch({ sha256: sha256Hex(bytes), sizeBytes: bytes.length })).toEqual(bytes);
    expect(hub.requests.map((r) => r.index)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(hub.requests.slice(1).every((r) => r.chunkSize === 1_500)).toBe(true);
    expect(fetcher.bytesReceived).toBe(10_000);
  });

  it('takes a whole artifact in one chunk when the hub serves larger chunks than asked for', async () => {
    const bytes = new Uint8Array(randomBytes(800));
    let fetcher!: ArtifactFetcher;
    const hub = clampingHub(bytes, (asked) => Math.max(asked, 1_024), () => fetcher);
    fetcher = new ArtifactFetcher({ request: hub.request, chunkSize: 300 });
    expect(await fetcher.fetch({ sha256: sha256Hex(bytes), sizeBytes: bytes.length })).toEqual(bytes);
    expect(hub.requests).toHaveLength(1);
  });
});
