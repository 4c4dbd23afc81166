/**
 * Kill the agent at each step of an activation and of a rollback (issue 10 acceptance): a child process installs v2
 * over a store serving v1 (previous v0) and SIGKILLs itself at one named step. Reopened, the store serves a working
 * model, state.json is exactly the old record or the new one, and no temp file or unreferenced blob is left.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { int8Loader } from '../../src/model-store/int8-loader.js';
import { INSTALL_STEPS, ModelStore } from '../../src/model-store/model-store.js';
import { DEVICE, heldOut, int8Payload, testBundle, testKey } from './fixtures.js';

const CHILD = fileURLToPath(new URL('./kill-child.ts', import.meta.url));
const ROLLBACK_STEPS = ['rollback-loaded', 'state-temp-written', 'committed', 'gc-blob-renamed'] as const;
const key = testKey();
const [v0, v1, v2] = [0, 1, 2].map((i) => testBundle(key, `v${i}`, int8Payload(i + 1)));
const examples = heldOut();

function openStore(dir: string): Promise<ModelStore> {
  return ModelStore.open({ dir, publicKeyPem: key.publicKeyPem, profile: DEVICE, loader: int8Loader(), selfTestData: async () => examples });
}

/** A store serving v1 with v0 as previous, and v2's bundle files for the child. */
async function prepare(): Promise<{ storeDir: string; bundleDir: string }> {
  const root = await mkdtemp(join(tmpdir(), 'model-store-kill-'));
  onTestFinished(() => rm(root, { recursive: true, force: true }));
  const storeDir = join(root, 'models');
  const bundleDir = join(root, 'bundle');
  const store = await openStore(storeDir);
  for (const b of [v0!, v1!]) await store.install({ manifest: b.manifest, signature: b.signature, payload: async () => b.payload, mode: 'activate' });
  store.close();
  await mkdir(bundleDir);
  await Promise.all([
    writeFile(join(bundleDir, 'public.pem'), key.publicKeyPem), writeFile(join(bundleDir, 'manifest'), v2!.manifest),
    writeFile(join(bundleDir, 'signature'), v2!.signature), writeFile(join(bundleDir, 'payload'), v2!.payload),
  ]);
  return { storeDir, bundleDir };
}

/** Runs the child to its kill at `crashAt`; resolves with the signal that ended it (null: it finished). */
function runChild(storeDir: string, bundleDir: string, action: 'install' | 'rollback', crashAt: string): Promise<{ signal: string | null }> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, CRASH_AT: crashAt };
    execFile(process.execPath, ['--import', 'tsx', CHILD, storeDir, bundleDir, action], { env, timeout: 60_000 }, (error, _stdout, stderr) => {
      if (error && error.signal !== 'SIGKILL') reject(new Error(`child failed: ${error.message}\n${stderr}`));
      else resolve({ signal: error?.signal ?? null });
    });
  });
}

/** The store after a kill: what serves, which record, and whether anything is left over. */
async function inspect(storeDir: string) {
  const store = await openStore(storeDir);
  onTestFinished(() => store.close());
  const record = await readFile(join(storeDir, 'state.json'));
  const active = store.active();
  const prediction = active ? await active.predict(examples[0]!.x) : undefined;
  const litter = [...(await readdir(storeDir)), ...(await readdir(join(storeDir, 'blobs')))].filter((n) => n.startsWith('.tmp-'));
  const referenced = [store.state.active, store.state.previous].map((i) => i?.sha256).filter(Boolean).sort();
  return { store, record, prediction, litter, blobs: (await readdir(join(storeDir, 'blobs'))).sort(), referenced };
}

/** Children at once: each start costs a process and a TypeScript load, and the machine has few cores. */
const PARALLEL_CHILDREN = 2;

/** Kills a child at every step (a few at a time), then checks each store. */
async function killAtEvery(action: 'install' | 'rollback', steps: readonly string[], check: (step: string, committed: boolean, after: Awaited<ReturnType<typeof inspect>>) => void) {
  const runs: { step: string; storeDir: string; oldRecord: Buffer; signal: string | null }[] = [];
  for (let i = 0; i < steps.length; i += PARALLEL_CHILDREN) {
    runs.push(...await Promise.all(steps.slice(i, i + PARALLEL_CHILDREN).map(async (step) => {
      const { storeDir, bundleDir } = await prepare();
      const oldRecord = await readFile(join(storeDir, 'state.json'));
      const { signal } = await runChild(storeDir, bundleDir, action, step);
      return { step, storeDir, oldRecord, signal };
    })));
  }
  for (const { step, storeDir, oldRecord, signal } of runs) {
    expect(signal, step).toBe('SIGKILL');
    const after = await inspect(storeDir);
    const committed = steps.indexOf(step) >= steps.indexOf('committed');
    if (!committed) expect(after.record, `record after a kill at ${step}`).toEqual(oldRecord);
    expect(after.prediction?.classIndex, `prediction after a kill at ${step}`).toBe(examples[0]!.label);
    expect(after.litter, `temp files after a kill at ${step}`).toEqual([]);
    expect(after.blobs, `blobs after a kill at ${step}`).toEqual(after.referenced);
    check(step, committed, after);
  }
}

describe('model store crash safety', () => {
  it('passes every named install and rollback step when nothing crashes (so each kill below hits its step)', async () => {
    const { storeDir } = await prepare();
    const steps: string[] = [];
    const store = await ModelStore.open({
      dir: storeDir, publicKeyPem: key.publicKeyPem, profile: DEVICE, loader: int8Loader(), selfTestData: async () => examples,
      crashPoint: (step) => steps.push(step),
    });
    onTestFinished(() => store.close());
    await store.install({ manifest: v2!.manifest, signature: v2!.signature, payload: async () => v2!.payload, mode: 'activate' });
    expect(steps.splice(0)).toEqual([...INSTALL_STEPS]);
    await store.rollback('v2', 'kill test');
    expect(steps).toEqual([...ROLLBACK_STEPS]);
  });

  it('an install killed at any step leaves a working model and the old or the new record', async () => {
    await killAtEvery('install', INSTALL_STEPS, (step, committed, after) => {
      const expected = committed ? { active: { versionId: 'v2' }, previous: { versionId: 'v1' } } : { active: { versionId: 'v1' }, previous: { versionId: 'v0' } };
      expect(after.store.state, step).toMatchObject(expected);
      expect(after.store.active()?.manifest.versionId, step).toBe(expected.active.versionId);
    });
  }, 120_000);

  it('a rollback killed at any step leaves a working model and the old or the new record', async () => {
    await killAtEvery('rollback', ROLLBACK_STEPS, (step, committed, after) => {
      if (committed) expect(after.store.state, step).toEqual({ active: expect.objectContaining({ versionId: 'v0' }) });
      else expect(after.store.state, step).toMatchObject({ active: { versionId: 'v1' }, previous: { versionId: 'v0' } });
    });
  }, 120_000);
});
