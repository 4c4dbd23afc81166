// The one-file bundle (fleet.proto `ModelBundle`, proto/docs/bundles.md#file-layout): what `fedfleet models bundle`
// writes and `fedfleet agent --install-bundle` reads for devices updated by hand. Not sent over MQTT: devices online
// get the manifest in DeployModel and fetch the payload over fetch/chunk.
import { ProtoError } from '../errors.js';
import { ModelBundle, type fedfleet } from '../messages.js';
import { BUNDLE_MAGIC, MAX_MANIFEST_BYTES } from './manifest.js';

/** Default largest bundle file read: well above any model fedfleet trains (a 2NN fp32 is ~0.8 MB). */
export const DEFAULT_MAX_BUNDLE_BYTES = 64 * 1024 * 1024;
/** A signature field longer than this is not a signature; the exact length is the verifier's check. */
const MAX_SIGNATURE_FIELD_BYTES = 1024;

export interface BundleFileParts {
  manifest: Uint8Array;
  signature: Uint8Array;
  payload: Uint8Array;
}

export function encodeBundleFile(b: BundleFileParts): Uint8Array {
  return ModelBundle.encode({ magic: BUNDLE_MAGIC, manifest: b.manifest, signature: b.signature, payload: b.payload }).finish();
}

/**
 * Splits a bundle file into its parts, checking the magic and each part's bounds. It verifies nothing: pass the
 * parts to verifyManifestSignature, then verifyPayload.
 * @throws ProtoError PROTO_ERR_BAD_BUNDLE for oversize, malformed or truncated bytes, a wrong magic, an empty or
 * oversize manifest, an oversize signature, an empty payload.
 */
export function decodeBundleFile(bytes: Uint8Array, options: { maxBytes?: number } = {}): BundleFileParts {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BUNDLE_BYTES;
  if (bytes.byteLength > maxBytes) throw new ProtoError('PROTO_ERR_BAD_BUNDLE', `bundle is ${bytes.byteLength} bytes > ${maxBytes}`);
  let message: fedfleet.v1.ModelBundle;
  try {
    message = ModelBundle.decode(bytes);
  } catch (error) {
    throw new ProtoError('PROTO_ERR_BAD_BUNDLE', `not a bundle file: ${(error as Error).message}`, { cause: error });
  }
  if (message.magic !== BUNDLE_MAGIC) throw new ProtoError('PROTO_ERR_BAD_BUNDLE', `magic ${JSON.stringify(message.magic.slice(0, 32))} is not ${BUNDLE_MAGIC}`);
  const { manifest, signature, payload } = message;
  if (manifest.byteLength === 0 || manifest.byteLength > MAX_MANIFEST_BYTES) throw new ProtoError('PROTO_ERR_BAD_BUNDLE', `manifest is ${manifest.byteLength} bytes, not 1..${MAX_MANIFEST_BYTES}`);
  if (signature.byteLength > MAX_SIGNATURE_FIELD_BYTES) throw new ProtoError('PROTO_ERR_BAD_BUNDLE', `signature field is ${signature.byteLength} bytes`);
  if (payload.byteLength === 0) throw new ProtoError('PROTO_ERR_BAD_BUNDLE', 'payload is empty');
  return { manifest: view(manifest), signature: view(signature), payload: view(payload) };
}

/** A plain Uint8Array over the same bytes (protobufjs returns Buffer slices on Node; callers get one type). */
function view(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
