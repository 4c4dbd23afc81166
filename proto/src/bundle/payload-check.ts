// The payload check a device runs after the manifest's signature verified (proto/docs/bundles.md#verification-order):
// the bytes it downloaded or read are exactly those the hub signed for, by size and sha256.
import { createHash } from 'node:crypto';
import { ProtoError } from '../errors.js';
import type { BundleManifest } from './manifest.js';

/**
 * @throws ProtoError PROTO_ERR_BAD_PAYLOAD when the payload's size or sha256 differs from the manifest's.
 */
export function verifyPayload(m: BundleManifest, payload: Uint8Array): void {
  if (payload.byteLength !== m.payload.sizeBytes) {
    throw new ProtoError('PROTO_ERR_BAD_PAYLOAD', `payload is ${payload.byteLength} bytes, the manifest says ${m.payload.sizeBytes}`);
  }
  const sha256 = createHash('sha256').update(payload).digest('hex');
  if (sha256 !== m.payload.sha256) throw new ProtoError('PROTO_ERR_BAD_PAYLOAD', `payload sha256 ${sha256} differs from the manifest's ${m.payload.sha256}`);
}
