// Ed25519 signatures over canonical manifest bytes (RFC 8032; proto/docs/bundles.md#signature). The hub signs with
// its identity key; a device verifies with the public key it received at enrollment, over the raw bytes, before it
// parses anything (never parse unsigned input beyond a size check).
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { ProtoError } from '../errors.js';
import { MAX_MANIFEST_BYTES, canonicalManifestBytes, parseManifest, type BundleManifest } from './manifest.js';

/** An Ed25519 signature is 64 bytes [RFC8032-5.1.6]. */
export const ED25519_SIGNATURE_BYTES = 64;

function ed25519PublicKey(publicKeyPem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(publicKeyPem);
  } catch (error) {
    throw new ProtoError('PROTO_ERR_BAD_SIGNATURE', 'the verifying key is not a PEM public key', { cause: error });
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new ProtoError('PROTO_ERR_BAD_SIGNATURE', `the verifying key is ${key.asymmetricKeyType}, not ed25519`);
  return key;
}

function keyIdOf(key: KeyObject): string {
  return createHash('sha256').update(key.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
}

/**
 * The manifest `keyId` of a public key: the first 16 hex chars of the sha256 of its SPKI DER.
 * @throws ProtoError PROTO_ERR_BAD_SIGNATURE when the PEM is not an Ed25519 public key.
 */
export function publicKeyId(publicKeyPem: string): string {
  return keyIdOf(ed25519PublicKey(publicKeyPem));
}

/** Canonical bytes of `m` and `sign` over them (the hub passes its identity's sign). */
export function signManifest(m: BundleManifest, sign: (data: Uint8Array) => Uint8Array): { manifest: Uint8Array; signature: Uint8Array } {
  const manifest = canonicalManifestBytes(m);
  return { manifest, signature: new Uint8Array(sign(manifest)) };
}

/**
 * Verifies `signature` over the raw `manifest` bytes with `publicKeyPem`, then parses them, then checks the
 * manifest names that key.
 * @throws ProtoError PROTO_ERR_BAD_SIGNATURE (wrong key, tampered bytes, a signature of the wrong length, a key that
 * is not Ed25519); PROTO_ERR_BAD_BUNDLE for oversize or invalid manifest bytes, or a keyId of another key.
 */
export function verifyManifestSignature(manifest: Uint8Array, signature: Uint8Array, publicKeyPem: string): BundleManifest {
  if (manifest.byteLength > MAX_MANIFEST_BYTES) throw new ProtoError('PROTO_ERR_BAD_BUNDLE', `manifest is ${manifest.byteLength} bytes > ${MAX_MANIFEST_BYTES}`);
  const key = ed25519PublicKey(publicKeyPem);
  if (signature.byteLength !== ED25519_SIGNATURE_BYTES) {
    throw new ProtoError('PROTO_ERR_BAD_SIGNATURE', `signature is ${signature.byteLength} bytes, an Ed25519 signature is ${ED25519_SIGNATURE_BYTES}`);
  }
  let valid: boolean;
  try {
    valid = verify(null, manifest, key, signature);
  } catch (error) {
    throw new ProtoError('PROTO_ERR_BAD_SIGNATURE', 'signature could not be checked', { cause: error });
  }
  if (!valid) throw new ProtoError('PROTO_ERR_BAD_SIGNATURE', `manifest signature does not verify with key ${keyIdOf(key)}`);
  const parsed = parseManifest(manifest);
  const keyId = keyIdOf(key);
  if (parsed.keyId !== keyId) throw new ProtoError('PROTO_ERR_BAD_BUNDLE', `manifest names key ${parsed.keyId}, verified with key ${keyId}`);
  return parsed;
}
