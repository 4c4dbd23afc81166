/**
 * The on-device model store (issue 10 item 2): bundles refused for each reason before anything changes, a failing
 * self-test rolling back by itself, activation keeping the previous version, rollback, shadow runs, and open()
 * recovering from a damaged record or blob.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { AgentError } from '../../src/errors.js';
import { int8Loader } from '../../src/model-store/int8-loader.js';
import { ModelStore, type ModelStoreOptions } from '../../src/model-store/model-store.js';
import type { ModelLoader } from '../../src/model-store/types.js';
import { DEVICE, heldOut, int8Payload, testBundle, testKey, type TestBundle } from './fixtures.js';

const key = testKey();
const v1 = testBundle(key, 'v1', int8Payload(1));
const v2 = testBundle(key, 'v2', int8Payload(2));
const examples = heldOut();

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'model-store-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function openStore(dir: string, options: Partial<ModelStoreOptions> = {}): Promise<ModelStore> {
  let nowMs = 1_000;
  const store = await ModelStore.open({
    dir, publicKeyPem: key.publicKeyPem, profile: DEVICE, loader: int8Loader(), selfTestData: async () => examples,
    clock: () => (nowMs += 1), ...options,
  });
  onTestFinished(() => store.close());
  return store;
}

function install(store: ModelStore, bundle: TestBundle, extra: { payload?: Uint8Array; mode?: 'activate' | 'shadow' } = {}) {
  let fetched = 0;
  const run = store.install({
    manifest: bundle.manifest, signature: bundle.signature, mode: extra.mode ?? 'activate',
    payload: async () => {
      fetched += 1;
      return extra.payload ?? bundle.payload;
    },
  });
  return { run, fetched: () => fetched };
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  return promise.then(() => undefined, (error: AgentError) => error.code);
}

/** A store serving v1, with what must stay unchanged when an install is refused. */
async function servingV1() {
  const dir = await tempDir();
  const store = await openStore(dir);
  await install(store, v1).run;
  return { dir, store, stateBytes: await readFile(join(dir, 'state.json')), blobs: await readdir(join(dir, 'blobs')) };
}

async function expectStillV1(setup: Awaited<ReturnType<typeof servingV1>>): Promise<void> {
  expect(setup.store.state.active?.versionId).toBe('v1');
  expect(setup.store.active()?.manifest.versionId).toBe('v1');
  expect((await setup.store.active()!.predict(examples[0]!.x)).classIndex).toBe(examples[0]!.label);
  expect(await readFile(join(setup.dir, 'state.json'))).toEqual(setup.stateBytes);
  expect(await readdir(join(setup.dir, 'blobs'))).toEqual(setup.blobs);
}

describe('model store install', () => {
  it('activates a verified bundle after its self-test and keeps the replaced version as previous', async () => {
    const dir = await tempDir();
    const store = await openStore(dir);
    const changes: unknown[] = [];
    store.on('changed', (state) => changes.push(state));
    const first = await install(store, v1).run;
    expect(first.selfTest).toMatchObject({ examples: 64, accuracy: 1 });
    expect(first.baseline).toBeUndefined();
    const second = await install(store, v2).run;
    expect(second.baseline).toMatchObject({ examples: 64, accuracy: 1 });
    expect(store.state).toMatchObject({ active: { versionId: 'v2', sha256: v2.parsed.payload.sha256, format: 'tflite', encoding: 'int8' }, previous: { versionId: 'v1' } });
    expect(changes).toHaveLength(2);
    const record = JSON.parse(await readFile(join(dir, 'state.json'), 'utf8'));
    expect(record).toMatchObject({ active: { versionId: 'v2' }, previous: { versionId: 'v1' } });
    expect((await readdir(join(dir, 'blobs'))).sort()).toEqual([v1.parsed.payload.sha256, v2.parsed.payload.sha256].sort());
  });

  it('refuses a tampered manifest, another key and a bigger profile before fetching the payload', async () => {
    const setup = await servingV1();
    const tampered = { ...v2, manifest: v2.manifest.slice() };
    tampered.manifest[tampered.manifest.indexOf(0x32)] = 0x33; // a '2' in the manifest becomes '3'
    const otherKey = testBundle(testKey(), 'v2', v2.payload);
    const bigger = testBundle(key, 'v2', v2.payload, { minProfile: { ramBytes: 1024 * 1024, flashBytes: 8192, int8Only: true, runtime: 'int8-kernels' } });
    for (const [bundle, code] of [[tampered, 'AGENT_ERR_BAD_SIGNATURE'], [otherKey, 'AGENT_ERR_BAD_SIGNATURE'], [bigger, 'AGENT_ERR_PROFILE_MISMATCH']] as const) {
      const attempt = install(setup.store, bundle);
      expect(await codeOf(attempt.run)).toBe(code);
      expect(attempt.fetched()).toBe(0);
      await expectStillV1(setup);
    }
    await expect(install(setup.store, bigger).run).rejects.toThrow(/needs 1024 KiB.*RAM, device has 256 KiB/);
  });

  it('refuses a payload with a wrong hash or truncated, keeping the old version', async () => {
    const setup = await servingV1();
    const wrong = v2.payload.slice();
    wrong[wrong.length - 1] ^= 0xff;
    for (const payload of [wrong, v2.payload.subarray(0, v2.payload.length - 10)]) {
      expect(await codeOf(install(setup.store, v2, { payload }).run)).toBe('AGENT_ERR_BAD_BUNDLE_PAYLOAD');
      await expectStillV1(setup);
    }
  });

  it('rolls back by itself when the self-test fails or the model does not load', async () => {
    const setup = await servingV1();
    const bad = testBundle(key, 'v2', int8Payload(1, 1));
    expect(await codeOf(install(setup.store, bad).run)).toBe('AGENT_ERR_SELF_TEST_FAILED');
    await expectStillV1(setup);
    const garbage = new TextEncoder().encode('not a flatbuffer at all, just text');
    expect(await codeOf(install(setup.store, testBundle(key, 'v3', garbage)).run)).toBe('AGENT_ERR_MODEL_LOAD');
    await expectStillV1(setup);
  });

  it('fails a model that answers NaN, and one that throws', async () => {
    const dir = await tempDir();
    const real = int8Loader();
    const broken = (how: 'nan' | 'throw'): ModelLoader => async (manifest, payload) => {
      const model = await real(manifest, payload);
      return {
        manifest, dispose: () => model.dispose(),
        predict: async (x) => {
          if (how === 'throw') throw new Error('kernel fault');
          return { classIndex: 0, scores: new Float32Array(4).fill((await model.predict(x)).scores[0]! * Number.NaN) };
        },
      };
    };
    for (const how of ['nan', 'throw'] as const) {
      const store = await openStore(dir, { loader: broken(how), selfTestData: async () => [] });
      expect(await codeOf(install(store, v1).run)).toBe('AGENT_ERR_SELF_TEST_FAILED');
      expect(store.state).toEqual({});
    }
  });

  it('answers a deploy of the active version from its record, without fetching or testing again', async () => {
    const setup = await servingV1();
    const again = install(setup.store, v1);
    expect((await again.run).selfTest).toMatchObject({ accuracy: 1 });
    expect(again.fetched()).toBe(0);
    await expectStillV1(setup);
  });

  it('refuses a second install while one runs, and stops at an abort with the state unchanged', async () => {
    const setup = await servingV1();
    let release!: (bytes: Uint8Array) => void;
    const controller = new AbortController();
    const slow = setup.store.install({ manifest: v2.manifest, signature: v2.signature, mode: 'activate', signal: controller.signal, payload: () => new Promise((r) => (release = r)) });
    expect(await codeOf(install(setup.store, v2).run)).toBe('AGENT_ERR_BUSY');
    controller.abort(new AgentError('AGENT_ERR_DEADLINE', 'deploy deadline passed'));
    expect(await codeOf(slow)).toBe('AGENT_ERR_DEADLINE');
    release(v2.payload);
    await expectStillV1(setup);
  });
});

describe('model store rollback and shadow', () => {
  it('rolls back to the previous version once, then answers false', async () => {
    const setup = await servingV1();
    await install(setup.store, v2).run;
    expect(await setup.store.rollback('v2', 'health gate')).toBe(true);
    expect(setup.store.state).toMatchObject({ active: { versionId: 'v1' } });
    expect(setup.store.state.previous).toBeUndefined();
    expect(setup.store.active()?.manifest.versionId).toBe('v1');
    expect(await setup.store.rollback('v2', 'again')).toBe(false);
    expect(await readdir(join(setup.dir, 'blobs'))).toEqual([v1.parsed.payload.sha256]);
  });

  it('runs a challenger in shadow beside the active version; activating or ending it clears the shadow', async () => {
    const setup = await servingV1();
    const shadow = await install(setup.store, v2, { mode: 'shadow' }).run;
    expect(shadow.baseline).toMatchObject({ accuracy: 1 });
    expect(setup.store.state).toMatchObject({ active: { versionId: 'v1' }, shadow: { versionId: 'v2' } });
    expect(setup.store.shadow()?.manifest.versionId).toBe('v2');
    expect(await setup.store.endShadow('v2')).toBe(true);
    expect(setup.store.shadow()).toBeUndefined();
    await install(setup.store, v2, { mode: 'shadow' }).run;
    expect(await setup.store.rollback('v2', 'challenger worse')).toBe(true);
    expect(setup.store.state).toEqual({ active: expect.objectContaining({ versionId: 'v1' }) });
    await install(setup.store, v2, { mode: 'shadow' }).run;
    const promote = install(setup.store, v2);
    await promote.run;
    expect(promote.fetched()).toBe(0); // the shadow's blob is reused
    expect(setup.store.state).toMatchObject({ active: { versionId: 'v2' }, previous: { versionId: 'v1' } });
    expect(setup.store.state.shadow).toBeUndefined();
  });
});

describe('model store open', () => {
  it('reloads the active version, and treats a corrupt record as an empty store without deleting blobs', async () => {
    const setup = await servingV1();
    setup.store.close();
    const reopened = await openStore(setup.dir);
    expect(reopened.active()?.manifest.versionId).toBe('v1');
    await writeFile(join(setup.dir, 'state.json'), '{"stateVersion":1,"active":{"versionId":');
    const corrupt = await openStore(setup.dir);
    expect(corrupt.state).toEqual({});
    expect(await readdir(join(setup.dir, 'blobs'))).toEqual(setup.blobs);
  });

  it('falls back to the previous version when the active blob is damaged, and removes litter and orphans', async () => {
    const setup = await servingV1();
    await install(setup.store, v2).run;
    setup.store.close();
    const payloadPath = join(setup.dir, 'blobs', v2.parsed.payload.sha256, 'payload');
    const damaged = await readFile(payloadPath);
    damaged[0] ^= 1;
    await writeFile(payloadPath, damaged);
    await writeFile(join(setup.dir, '.tmp-state.json-abc'), 'half a record');
    await writeFile(join(setup.dir, 'blobs', '.tmp-0123'), 'half a blob');
    const orphan = join(setup.dir, 'blobs', testBundle(key, 'v9', int8Payload(9)).parsed.payload.sha256);
    await mkdir(orphan);
    await writeFile(join(orphan, 'payload'), 'a blob no record names');
    const store = await openStore(setup.dir);
    expect(store.recovery).toMatchObject({ failedVersionId: 'v2', restoredVersionId: 'v1' });
    expect(store.state).toEqual({ active: expect.objectContaining({ versionId: 'v1' }) });
    expect(store.active()?.manifest.versionId).toBe('v1');
    expect(JSON.parse(await readFile(join(setup.dir, 'state.json'), 'utf8')).active.versionId).toBe('v1');
    expect(await readdir(setup.dir)).toEqual(expect.not.arrayContaining([expect.stringMatching(/^\.tmp-/)]));
    expect(await readdir(join(setup.dir, 'blobs'))).toEqual([v1.parsed.payload.sha256]);
  });
});
