/**
 * The hub's Ed25519 identity: generated on first start into `<dataDir>/hub-ed25519.pem` (PKCS#8, mode 0600).
 * Devices receive the public key at enrollment and use it to verify signed model bundles (DESIGN section 5).
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeSecretFile } from './admin-token.js';

export const HUB_KEY_FILE = 'hub-ed25519.pem';

export interface HubIdentity {
  /** SPKI PEM of the public key, as sent to devices. */
  readonly publicKeyPem: string;
  /** Ed25519 signature of `data`. */
  sign(data: Uint8Array): Buffer;
  verify(data: Uint8Array, signature: Uint8Array): boolean;
}

export function loadOrCreateHubIdentity(dataDir: string): HubIdentity {
  const path = join(dataDir, HUB_KEY_FILE);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(readFileSync(path));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    privateKey = generateKeyPairSync('ed25519').privateKey;
    writeSecretFile(path, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error(`${path} does not hold an Ed25519 key`);
  const publicKey = createPublicKey(privateKey);
  return {
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    sign: (data) => sign(null, data, privateKey),
    verify: (data, signature) => verify(null, data, publicKey, signature),
  };
}
