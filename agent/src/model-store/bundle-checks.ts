/**
 * The checks a bundle passes before the store keeps it, each turned from the proto layer's error into the agent
 * code the hub sees (DESIGN §5: signature, hash and profile, before anything else). The order is the store's:
 * signature and profile before the payload is fetched, the payload's size and hash after.
 */
import {
  ProtoError, profileMeetsManifest, verifyManifestSignature, verifyPayload, type BundleManifest, type HardwareProfileProps,
} from '@fedfleet/proto';
import { AgentError, type AgentErrorCode } from '../errors.js';

const CODE_OF: Record<string, AgentErrorCode> = {
  PROTO_ERR_BAD_SIGNATURE: 'AGENT_ERR_BAD_SIGNATURE',
  PROTO_ERR_BAD_BUNDLE: 'AGENT_ERR_BAD_BUNDLE',
  PROTO_ERR_BAD_PAYLOAD: 'AGENT_ERR_BAD_BUNDLE_PAYLOAD',
};

/** Runs `check`, rethrowing a ProtoError as the AgentError of its code (`fallback` for any other code). */
export function asAgentError<T>(check: () => T, fallback: AgentErrorCode): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof AgentError) throw error;
    const code = error instanceof ProtoError ? CODE_OF[error.code] ?? fallback : fallback;
    throw new AgentError(code, (error as Error).message, { cause: error });
  }
}

/**
 * The signed manifest, verified with the hub's key, for a device whose profile meets it.
 * @throws AgentError AGENT_ERR_BAD_SIGNATURE, AGENT_ERR_BAD_BUNDLE, AGENT_ERR_PROFILE_MISMATCH (with the numbers).
 */
export function verifiedManifestFor(manifest: Uint8Array, signature: Uint8Array, publicKeyPem: string, profile: HardwareProfileProps): BundleManifest {
  const parsed = asAgentError(() => verifyManifestSignature(manifest, signature, publicKeyPem), 'AGENT_ERR_BAD_BUNDLE');
  const mismatch = profileMeetsManifest(profile, parsed);
  if (mismatch) throw new AgentError('AGENT_ERR_PROFILE_MISMATCH', `${parsed.modelName} ${parsed.versionId}: ${mismatch}`);
  return parsed;
}

/** @throws AgentError AGENT_ERR_BAD_BUNDLE_PAYLOAD when the payload's size or sha256 is not the manifest's. */
export function checkPayload(manifest: BundleManifest, payload: Uint8Array): void {
  asAgentError(() => verifyPayload(manifest, payload), 'AGENT_ERR_BAD_BUNDLE_PAYLOAD');
}
