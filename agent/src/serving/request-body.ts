import type { IncomingMessage } from 'node:http';
import { AgentError } from '../errors.js';

/**
 * Body bytes held in memory by all requests at once. One request is bounded by `maxBodyBytes`; without a shared
 * bound, N concurrent clients that each send just under it (and stall) hold N × 4 MiB — enough to take a
 * Raspberry Pi out of memory. A request that would pass the budget is refused (AGENT_ERR_OVERLOADED) instead.
 */
export class BodyBudget {
  private heldBytes = 0;

  constructor(readonly maxBytes: number) {}

  /** A request's share: `take` reserves bytes (false when the budget has none left), `release` returns all of them. */
  lease(): { take(bytes: number): boolean; release(): void } {
    let leased = 0;
    return {
      take: (bytes) => {
        if (this.heldBytes + bytes > this.maxBytes) return false;
        this.heldBytes += bytes;
        leased += bytes;
        return true;
      },
      release: () => {
        this.heldBytes -= leased;
        leased = 0;
      },
    };
  }

  /** Bytes reserved now (tests). */
  get held(): number {
    return this.heldBytes;
  }
}

export type BodyLease = ReturnType<BodyBudget['lease']>;

/** The media type of a Content-Type header, lowercase, without parameters ("application/json; charset=utf-8" → "application/json"). */
export function mediaTypeOf(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

/**
 * Reads the whole body of `req` into memory, never more than `maxBytes` of it: a body that announces or turns out
 * to be larger is refused with AGENT_ERR_BODY_TOO_LARGE as soon as that is known. Every byte kept is taken from
 * `lease` first (the caller releases it once answered). What the client still sends is not kept: node:http discards
 * the rest of a request it did not read (bounded by the server's requestTimeout). `accepted` runs once the
 * announced body passed every check, before any of it is read (where a `100 Continue` goes).
 * @throws AgentError AGENT_ERR_BODY_TOO_LARGE, AGENT_ERR_OVERLOADED when the lease runs dry, AGENT_ERR_BAD_INPUT when
 *   the connection ends mid-body.
 */
export function readBody(req: IncomingMessage, maxBytes: number, lease: BodyLease, accepted?: () => void): Promise<Buffer> {
  const tooLarge = (detail: string) => new AgentError('AGENT_ERR_BODY_TOO_LARGE', `${detail}; the limit is ${maxBytes} bytes`);
  const overloaded = () => new AgentError('AGENT_ERR_OVERLOADED', 'too many request bodies in memory at once; retry shortly');
  const announcedBytes = Number(req.headers['content-length'] ?? 0);
  if (announcedBytes > maxBytes) return Promise.reject(tooLarge(`Content-Length is ${announcedBytes}`));
  // [RFC 9110 §8.4] content codings are not decoded here: a coded body would be parsed as if it were plain.
  const coding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (coding !== 'identity') return Promise.reject(new AgentError('AGENT_ERR_UNSUPPORTED_MEDIA_TYPE', `Content-Encoding "${coding.slice(0, 40)}" is not accepted, send the body uncompressed`));
  if (!lease.take(announcedBytes)) return Promise.reject(overloaded());
  accepted?.();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    const settle = () => req.off('data', onData).off('end', onEnd).off('error', onCutOff).off('close', onClose);
    const onData = (chunk: Buffer) => {
      // The announced length was taken up front; a body without one (chunked) takes as it arrives.
      const unleased = Math.max(0, Math.min(chunk.length, bytes + chunk.length - announcedBytes));
      bytes += chunk.length;
      if (bytes > maxBytes) {
        settle();
        reject(tooLarge(`the body exceeds ${maxBytes} bytes`));
      } else if (!lease.take(unleased)) {
        settle();
        reject(overloaded());
      } else chunks.push(chunk);
    };
    const onEnd = () => {
      settle();
      resolve(Buffer.concat(chunks, bytes));
    };
    const onCutOff = () => {
      settle();
      reject(new AgentError('AGENT_ERR_BAD_INPUT', 'the request body was cut off'));
    };
    const onClose = () => {
      if (!req.complete) onCutOff();
    };
    req.on('data', onData).once('end', onEnd).once('error', onCutOff).once('close', onClose);
  });
}
