/**
 * The `deploy` and `rollback` commands (issue 10): DeployReports at each phase and the CommandResult the hub's
 * rollouts act on — refused bundles reach the hub with their code while the old version keeps serving, a failing
 * self-test reports ROLLED_BACK, the deadline is honoured, a rollback is idempotent — and the store's record in the
 * Status fields and the periodic SHADOWING report.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeployMode, DeployPhase, ResultCode, type CommandProps, type DeployModelProps, type DeployReportProps } from '@fedfleet/proto';
import { describe, expect, it, onTestFinished } from 'vitest';
import { deployHandler } from '../../src/commands/deploy.js';
import { rollbackHandler } from '../../src/commands/rollback.js';
import { silentLogger } from '../../src/logger.js';
import { AgentModels } from '../../src/model-store/agent-models.js';
import { int8Loader } from '../../src/model-store/int8-loader.js';
import { ModelStore } from '../../src/model-store/model-store.js';
import { DEVICE, heldOut, int8Payload, testBundle, testKey, type TestBundle } from '../model-store/fixtures.js';
import { fakeContext, type FakeContext } from './fake-context.js';

const key = testKey();
const v1 = testBundle(key, 'v1', int8Payload(1));
const v2 = testBundle(key, 'v2', int8Payload(2));
const bad = testBundle(key, 'v3', int8Payload(1, 1));

async function storeServingV1(): Promise<ModelStore> {
  const dir = await mkdtemp(join(tmpdir(), 'deploy-command-'));
  const store = await ModelStore.open({ dir, publicKeyPem: key.publicKeyPem, profile: DEVICE, loader: int8Loader(), selfTestData: async () => heldOut() });
  onTestFinished(async () => {
    store.close();
    await rm(dir, { recursive: true, force: true });
  });
  await store.install({ manifest: v1.manifest, signature: v1.signature, payload: async () => v1.payload, mode: 'activate' });
  return store;
}

function deployOf(bundle: TestBundle, extra: Partial<DeployModelProps> = {}): CommandProps {
  const { parsed } = bundle;
  return {
    commandId: 'cmd-1',
    deploy: {
      rolloutId: 'ro-1', manifest: bundle.manifest, signature: bundle.signature, mode: DeployMode.DEPLOY_MODE_ACTIVATE,
      model: { modelId: parsed.modelId, versionId: parsed.versionId, sha256: parsed.payload.sha256, sizeBytes: parsed.payload.sizeBytes, format: 'tflite' },
      ...extra,
    },
  };
}

function contextFor(...bundles: TestBundle[]): FakeContext {
  return fakeContext(Object.fromEntries(bundles.map((b) => [b.parsed.payload.sha256, b.payload])));
}

const reports = (ctx: FakeContext): DeployReportProps[] => ctx.published.flatMap((p) => (p.body.deployReport ? [p.body.deployReport] : []));
const phases = (ctx: FakeContext) => reports(ctx).map((r) => r.phase);
const codes = (ctx: FakeContext) => ctx.replies.map((r) => r.code);

describe('deploy command', () => {
  it('reports each phase, then ACTIVATED with the self-test and the baseline, then DONE', async () => {
    const store = await storeServingV1();
    const ctx = contextFor(v2);
    await deployHandler({ store: () => store }).run(ctx, deployOf(v2));
    expect(codes(ctx)).toEqual([ResultCode.RESULT_CODE_ACCEPTED, ResultCode.RESULT_CODE_DONE]);
    expect(phases(ctx)).toEqual([DeployPhase.DEPLOY_PHASE_DOWNLOADING, DeployPhase.DEPLOY_PHASE_VERIFYING, DeployPhase.DEPLOY_PHASE_ACTIVATED]);
    expect(reports(ctx).at(-1)).toMatchObject({
      rolloutId: 'ro-1', commandId: 'cmd-1', modelId: 'model-1', versionId: 'v2', activeVersionId: 'v2', previousVersionId: 'v1',
      selfTest: { examples: 64, accuracy: 1 }, baseline: { examples: 64, accuracy: 1 },
    });
  });

  it('refuses a bundle signed by another key with its code, without downloading; the old version serves on', async () => {
    const store = await storeServingV1();
    const ctx = contextFor(v2);
    await deployHandler({ store: () => store }).run(ctx, deployOf(testBundle(testKey(), 'v2', v2.payload)));
    expect(ctx.replies).toEqual([expect.objectContaining({ code: ResultCode.RESULT_CODE_REFUSED, errorCode: 'AGENT_ERR_BAD_SIGNATURE' })]);
    expect(reports(ctx)).toEqual([expect.objectContaining({ phase: DeployPhase.DEPLOY_PHASE_FAILED, errorCode: 'AGENT_ERR_BAD_SIGNATURE', activeVersionId: 'v1' })]);
    expect(ctx.fetched).toEqual([]);
    expect(store.active()?.manifest.versionId).toBe('v1');
  });

  it('reports ROLLED_BACK with the code when the new version fails its self-test', async () => {
    const store = await storeServingV1();
    const ctx = contextFor(bad);
    await expect(deployHandler({ store: () => store }).run(ctx, deployOf(bad))).rejects.toMatchObject({ code: 'AGENT_ERR_SELF_TEST_FAILED' });
    expect(codes(ctx)).toEqual([ResultCode.RESULT_CODE_ACCEPTED]); // the agent answers FAILED with the code
    expect(reports(ctx).at(-1)).toMatchObject({ phase: DeployPhase.DEPLOY_PHASE_ROLLED_BACK, errorCode: 'AGENT_ERR_SELF_TEST_FAILED', activeVersionId: 'v1', versionId: 'v3' });
    expect(store.active()?.manifest.versionId).toBe('v1');
  });

  it('answers ACTIVATED at once for the version already active', async () => {
    const store = await storeServingV1();
    const ctx = contextFor(v1);
    await deployHandler({ store: () => store }).run(ctx, deployOf(v1));
    expect(codes(ctx)).toEqual([ResultCode.RESULT_CODE_ACCEPTED, ResultCode.RESULT_CODE_DONE]);
    expect(phases(ctx)).toEqual([DeployPhase.DEPLOY_PHASE_ACTIVATED]);
    expect(ctx.fetched).toEqual([]);
  });

  it('refuses a deploy past its deadline, and fails one not activated by it', async () => {
    const store = await storeServingV1();
    const late = contextFor(v2);
    await deployHandler({ store: () => store, now: () => 2_000 }).run(late, deployOf(v2, { deadlineAtMs: 1_000 }));
    expect(late.replies).toEqual([expect.objectContaining({ code: ResultCode.RESULT_CODE_REFUSED, errorCode: 'AGENT_ERR_DEADLINE' })]);
    const stuck = { ...contextFor(v2), fetchArtifact: () => new Promise<Uint8Array>(() => {}) };
    await expect(deployHandler({ store: () => store }).run(stuck, deployOf(v2, { deadlineAtMs: Date.now() + 30 }))).rejects.toMatchObject({ code: 'AGENT_ERR_DEADLINE' });
    expect(reports(stuck).at(-1)).toMatchObject({ phase: DeployPhase.DEPLOY_PHASE_FAILED, errorCode: 'AGENT_ERR_DEADLINE', activeVersionId: 'v1' });
    expect(store.state.active?.versionId).toBe('v1');
  });

  it('honours a deadline further away than a node timer holds (2^31 ms ≈ 24.8 days) instead of failing at once', async () => {
    const store = await storeServingV1();
    const ctx = contextFor(v2);
    const in30DaysMs = Date.now() + 30 * 24 * 3600 * 1000;
    await deployHandler({ store: () => store }).run(ctx, deployOf(v2, { deadlineAtMs: in30DaysMs }));
    expect(codes(ctx)).toEqual([ResultCode.RESULT_CODE_ACCEPTED, ResultCode.RESULT_CODE_DONE]);
    expect(store.state.active?.versionId).toBe('v2');
  });

  it('runs shadow mode: SHADOWING, the Status fields name the challenger, heartbeats carry its counts', async () => {
    const store = await storeServingV1();
    const changes: boolean[] = [];
    const models = new AgentModels(silentLogger, (_state, shadowChanged) => changes.push(shadowChanged));
    await models.open(async () => store, { hubPublicKey: key.publicKeyPem } as never);
    expect(models.shadowReport({})).toBeUndefined();
    const ctx = contextFor(v2);
    await deployHandler({ store: () => store }).run(ctx, deployOf(v2, { mode: DeployMode.DEPLOY_MODE_SHADOW }));
    expect(reports(ctx).at(-1)).toMatchObject({ phase: DeployPhase.DEPLOY_PHASE_SHADOWING, activeVersionId: 'v1', selfTest: { accuracy: 1 } });
    expect(models.statusFields()).toEqual({ activeSha256: v1.parsed.payload.sha256, previousVersionId: '', shadowVersionId: 'v2' });
    expect(models.shadowReport({ inferences: 5, agreements: 4 })).toMatchObject({
      rolloutId: 'ro-1', commandId: 'cmd-1', versionId: 'v2', phase: DeployPhase.DEPLOY_PHASE_SHADOWING, shadow: { inferences: 5, agreements: 4 },
    });
    expect(changes).toEqual([false, true]);
  });
});

describe('rollback command', () => {
  it('puts the previous version back, and answers DONE again without change when repeated', async () => {
    const store = await storeServingV1();
    await deployHandler({ store: () => store }).run(contextFor(v2), deployOf(v2));
    const command: CommandProps = { commandId: 'cmd-2', rollback: { rolloutId: 'ro-1', fromVersionId: 'v2', reason: 'accuracy gate' } };
    for (let i = 0; i < 2; i++) {
      const ctx = fakeContext();
      await rollbackHandler({ store: () => store }).run(ctx, command);
      expect(codes(ctx)).toEqual([ResultCode.RESULT_CODE_ACCEPTED, ResultCode.RESULT_CODE_DONE]);
      expect(reports(ctx)).toEqual([expect.objectContaining({ phase: DeployPhase.DEPLOY_PHASE_ROLLED_BACK, versionId: 'v2', activeVersionId: 'v1', previousVersionId: '' })]);
    }
    expect(store.active()?.manifest.versionId).toBe('v1');
  });
});
