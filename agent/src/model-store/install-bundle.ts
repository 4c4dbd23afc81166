/**
 * `fedfleet agent --install-bundle <file>`: installs a bundle file (`fedfleet models bundle`) by hand, through the
 * same store install as a deploy from the hub — signature with the hub key saved at enrollment, profile, payload
 * hash, load, self-test, atomic activation — and prints the self-test. For devices updated without the hub; run it
 * while the agent is stopped (a running agent reads the store at its next start).
 */
import { readFile } from 'node:fs/promises';
import { decodeBundleFile, parseManifest, type SelfTestProps } from '@fedfleet/proto';
import type { DeviceCredentials } from '../credentials.js';
import { AgentError, errorCodeOf } from '../errors.js';
import { openAgentModelStore, type AgentStoreOptions } from './agent-store.js';
import { asAgentError } from './bundle-checks.js';

function describeSelfTest(t: SelfTestProps): string {
  if (!t.examples) return 'no held-out data (pass --data): smoke inference only';
  return `accuracy ${((t.accuracy ?? 0) * 100).toFixed(1)} % on ${t.examples} held-out examples, p50 ${(t.p50Ms ?? 0).toFixed(2)} ms, p95 ${(t.p95Ms ?? 0).toFixed(2)} ms`;
}

/** @returns the exit code: 0 installed (or already active), 1 refused or failed (the code is printed). */
export async function runInstallBundle(file: string, credentials: DeviceCredentials | undefined, options: Omit<AgentStoreOptions, 'publicKeyPem'>): Promise<number> {
  try {
    if (!credentials?.hubPublicKey) throw new AgentError('AGENT_ERR_NOT_ENROLLED', 'the hub key comes with enrollment: enroll the device once first');
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(file));
    } catch (error) {
      throw new AgentError('AGENT_ERR_BAD_BUNDLE', `cannot read ${file}: ${(error as Error).message}`, { cause: error });
    }
    const parts = asAgentError(() => decodeBundleFile(bytes), 'AGENT_ERR_BAD_BUNDLE');
    const store = await openAgentModelStore({ ...options, publicKeyPem: credentials.hubPublicKey });
    try {
      const result = await store.install({ manifest: parts.manifest, signature: parts.signature, payload: async () => parts.payload, mode: 'activate' });
      const m = parseManifest(parts.manifest);
      const previous = store.state.previous;
      process.stdout.write(`installed ${m.modelName} ${m.versionId} (${m.encoding} ${m.format}) in ${options.dir}\n`);
      process.stdout.write(`  self-test: ${describeSelfTest(result.selfTest)}\n`);
      if (result.baseline && previous) process.stdout.write(`  before (${previous.versionId}): ${describeSelfTest(result.baseline)}\n`);
      return 0;
    } finally {
      store.close();
    }
  } catch (error) {
    process.stderr.write(`error ${errorCodeOf(error)}: ${(error as Error).message}\n`);
    return 1;
  }
}
