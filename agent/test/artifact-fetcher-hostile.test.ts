/**
 * The fetcher against a compromised broker or a forged command (agent/docs/agent.md): a reference no download can
 * satisfy is refused before anything is asked for, and a hub that answers in crumbs cannot stretch a download into
 * an endless stream of round trips.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ArtifactFetcher, sha256Hex } from '../src/artifact-fetcher.js';

type Req = { sha256: string; index: number; chunkSize: number; requestId: string };

describe('ArtifactFetcher, hostile references and answers', () => {
  it.each([
    ['a NaN size', 'ab'.repeat(32), Number.NaN],
    ['a negative size', 'ab'.repeat(32), -1],
    ['a fractional size', 'ab'.repeat(32), 1.5],
    ['a size past 2^53', 'ab'.repeat(32), 2 ** 60],
    ['a size over maxArtifactBytes', 'ab'.repeat(32), 10_001],
    ['a sha256 that is not one', '../../etc/passwd', 100],
  ])('refuses %s with AGENT_ERR_FETCH_FAILED without asking the hub', async (_name, sha256, sizeBytes) => {
    const requests: Req[] = [];
    const fetcher = new ArtifactFetcher({ request: async (req) => void requests.push(req), maxArtifactBytes: 10_000, chunkTimeoutMs: 10 });
    await expect(fetcher.fetch({ sha256, sizeBytes })).rejects.toMatchObject({ code: 'AGENT_ERR_FETCH_FAILED' });
    expect(requests).toEqual([]);
  });

  it('fails a download the hub answers in chunks smaller than it ever serves (1 KiB), after one request', async () => {
    const bytes = new Uint8Array(randomBytes(5_000));
    const requests: Req[] = [];
    let fetcher!: ArtifactFetcher;
    const request = async (req: Req) => {
      requests.push(req);
      // One byte per chunk: 5,000 round trips for 5 KB, 64 Mi of them for a 64 MiB model.
      const data = bytes.slice(req.index, req.index + 1);
      setImmediate(() => fetcher.onChunk({ sha256: req.sha256, index: req.index, totalChunks: bytes.length, totalBytes: bytes.length, data, requestId: req.requestId }));
    };
    fetcher = new ArtifactFetcher({ request });
    await expect(fetcher.fetch({ sha256: sha256Hex(bytes), sizeBytes: bytes.length })).rejects.toMatchObject({ code: 'AGENT_ERR_FETCH_FAILED' });
    expect(requests).toHaveLength(1);
  });

  it('bounds the bytes of all downloads in progress, not just each one (many commands naming large artifacts)', async () => {
    const requests: Req[] = [];
    const fetcher = new ArtifactFetcher({ request: async (req) => void requests.push(req), maxArtifactBytes: 10_000, chunkTimeoutMs: 60_000 });
    // Asked for at once, as two commands arriving together would: neither has registered when the other starts.
    const first = fetcher.fetch({ sha256: 'ab'.repeat(32), sizeBytes: 6_000 });
    first.catch(() => {});
    await expect(fetcher.fetch({ sha256: 'cd'.repeat(32), sizeBytes: 6_000 })).rejects.toMatchObject({ code: 'AGENT_ERR_FETCH_FAILED' });
    expect(requests.map((r) => r.sha256)).toEqual(['ab'.repeat(32)]);
    fetcher.close();
    await expect(first).rejects.toMatchObject({ code: 'AGENT_ERR_CANCELLED' });
  });

  it('does not start a download for a signal that has already aborted', async () => {
    const requests: Req[] = [];
    const fetcher = new ArtifactFetcher({ request: async (req) => void requests.push(req), chunkTimeoutMs: 10 });
    await expect(fetcher.fetch({ sha256: 'ab'.repeat(32), sizeBytes: 10 }, AbortSignal.abort())).rejects.toMatchObject({ code: 'AGENT_ERR_CANCELLED' });
    expect(requests).toEqual([]);
  });
});
