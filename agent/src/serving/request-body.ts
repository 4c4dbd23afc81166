import type { IncomingMessage } from 'node:http';
import { AgentError } from '../errors.js';

/** The media type of a Content-Type header, lowercase, without parameters ("application/json; charset=utf-8" → "application/json"). */
export function mediaTypeOf(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

/**
 * Reads the whole body of `req` into memory, never more than `maxBytes` of it: a body that announces or turns out
 * to be larger is refused with AGENT_ERR_BODY_TOO_LARGE as soon as that is known. What the client still sends is
 * not kept: node:http discards the rest of a request it did not read (bounded by the server's requestTimeout).
 * @throws AgentError AGENT_ERR_BODY_TOO_LARGE, or AGENT_ERR_BAD_INPUT when the connection ends mid-body.
 */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const tooLarge = (detail: string) => new AgentError('AGENT_ERR_BODY_TOO_LARGE', `${detail}; the limit is ${maxBytes} bytes`);
  const announcedBytes = Number(req.headers['content-length'] ?? 0);
  if (announcedBytes > maxBytes) return Promise.reject(tooLarge(`Content-Length is ${announcedBytes}`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    const settle = () => req.off('data', onData).off('end', onEnd).off('error', onCutOff).off('close', onClose);
    const onData = (chunk: Buffer) => {
      bytes += chunk.length;
      chunks.push(chunk);
      if (bytes <= maxBytes) return;
      settle();
      reject(tooLarge(`the body exceeds ${maxBytes} bytes`));
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
