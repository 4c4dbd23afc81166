import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { ArtifactFetcher, sha256Hex } from '../src/artifact-fetcher.js';
import { MemoryArtifactCache } from '../src/artifact-cache.js';

type Req = { sha256: string; index: number; chunkSize: number; requestId: string };

function server(bytes: Uint8Array, fetcher: () => ArtifactFetcher, opts: { drop?: (req: Req, n: number) => boolean; corrupt?: boolean } = {}) {
  let n = 0;
  const requests: Req[] = [];
  const request = async (req: Req) => {
    requests.push(req);
    n += 1;
    if (opts.drop?.(req, n)) return;
    const start = req.index * req.chunkSize;
    const data = bytes.slice(start, Math.min(bytes.length, start + req.chunkSize));
    if (opts.corrupt && req.index === 0) data[0]! ^= 0xff;
    setImmediate(() => fetcher().onChunk({ sha256: req.sha256, index: req.index, totalChunks: Math.ceil(bytes.length / req.chunkSize), totalBytes: bytes.length, data, requestId: req.requestId }));
  };
  return { request, requests };
}

describe('ArtifactFetcher', () => {
  it('downloads in chunks, verifies the sha256, and serves later fetches from the cache', async () => {
    const bytes = new Uint8Array(randomBytes(10_000));
    const ref = { sha256: sha256Hex(bytes), sizeBytes: bytes.length };
    let fetcher!: ArtifactFetcher;
    const s = server(bytes, () => fetcher);
    fetcher = new ArtifactFetcher({ request: s.request, chunkSize: 1024, cache: new MemoryArtifactCache() });
    expect(await fetcher.fetch(ref)).toEqual(bytes);
    expect(s.requests).toHaveLength(10);
    expect(fetcher.bytesReceived).toBe(10_000);
    expect(await fetcher.fetch(ref)).toEqual(bytes);
    expect(s.requests).toHaveLength(10);
  });

  it('asks again for lost chunks and resumes without refetching the ones it has', async () => {
    const bytes = new Uint8Array(randomBytes(5_000));
    let fetcher!: ArtifactFetcher;
    const s = server(bytes, () => fetcher, { drop: (req, n) => req.index === 2 && n < 6 });
    fetcher = new ArtifactFetcher({ request: s.request, chunkSize: 1000, chunkTimeoutMs: 20 });
    expect(await fetcher.fetch({ sha256: sha256Hex(bytes), sizeBytes: bytes.length })).toEqual(bytes);
    const perIndex = s.requests.reduce<Record<number, number>>((acc, r) => ({ ...acc, [r.index]: (acc[r.index] ?? 0) + 1 }), {});
    expect(perIndex[2]).toBeGreaterThan(1);
    expect(perIndex[0]).toBe(1);
  });

  it('fails with AGENT_ERR_INTEGRITY on a corrupted artifact and AGENT_ERR_FETCH_FAILED when the hub errs', async () => {
    const bytes = new Uint8Array(randomBytes(3_000));
    let fetcher!: ArtifactFetcher;
    const s = server(bytes, () => fetcher, { corrupt: true });
    fetcher = new ArtifactFetcher({ request: s.request, chunkSize: 1000 });
    await expect(fetcher.fetch({ sha256: sha256Hex(bytes), sizeBytes: bytes.length })).rejects.toMatchObject({ code: 'AGENT_ERR_INTEGRITY' });

    const erring = new ArtifactFetcher({
      request: async (req) => void setImmediate(() => erring.onChunk({ sha256: req.sha256, index: req.index, errorCode: 'HUB_ERR_ARTIFACT_NOT_FOUND' })),
    });
    await expect(erring.fetch({ sha256: 'ab'.repeat(32), sizeBytes: 10 })).rejects.toMatchObject({ code: 'AGENT_ERR_FETCH_FAILED' });
  });

  it('gives up after the maximum attempts instead of waiting forever', async () => {
    const fetcher = new ArtifactFetcher({ request: async () => {}, chunkTimeoutMs: 5, maxAttempts: 3 });
    await expect(fetcher.fetch({ sha256: 'cd'.repeat(32), sizeBytes: 10 })).rejects.toMatchObject({ code: 'AGENT_ERR_FETCH_FAILED' });
  });
});
