/**
 * The on-device model store (issue 10 item 2, DESIGN §5): verified bundles on disk, one atomically replaced record
 * of which version serves, which it would roll back to and which runs in shadow, and the loaded models. Every
 * change is verify → fetch → check → write blob → load → self-test → commit record → swap → collect garbage, so a
 * failure before the commit leaves the old version serving and the record untouched, and a crash at any point
 * leaves a record that names complete blobs (agent/docs/agent.md#the-model-store).
 */
import { EventEmitter } from 'node:events';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseManifest, type BundleManifest, type HardwareProfileProps, type SelfTestProps } from '@fedfleet/proto';
import { AgentError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { BlobDir } from './blob-dir.js';
import { asAgentError, checkPayload, verifiedManifestFor } from './bundle-checks.js';
import { removeTempLitter, replaceFileAtomically } from './durable-fs.js';
import { DEFAULT_SELF_TEST_EXAMPLES, runPairedSelfTest, selfTestFloorFailure } from './self-test.js';
import { STATE_FILE, compactState, readStateFile, referencedBlobs, stateFileBytes } from './store-state.js';
import type {
  InstallInput, InstallResult, LoadedModel, ModelLoader, ModelStoreState, SelfTestExample, StoredModelInfo,
} from './types.js';

export interface ModelStoreOptions {
  /** The store's directory (the agent uses `<data dir>/models`). */
  dir: string;
  /** The hub's Ed25519 public key (PEM), saved at enrollment: bundles must be signed with it. */
  publicKeyPem: string;
  /** This device's profile, checked against each manifest's minimum profile. */
  profile: HardwareProfileProps;
  loader: ModelLoader;
  /** The device's held-out labelled examples for self-tests; without it only a smoke inference runs. */
  selfTestData?: () => Promise<SelfTestExample[]>;
  /** Milliseconds; times self-test inferences and stamps activations. Default: wall clock with sub-ms resolution. */
  clock?: () => number;
  log?: Logger;
  /** Called between the named steps of every change ({@link INSTALL_STEPS}); tests kill the process there. */
  crashPoint?: (step: string) => void;
}

/** Every step an install may pass, in order (blob-temp-written only when the blob is new, gc-* only with garbage). */
export const INSTALL_STEPS = [
  'verified', 'downloaded', 'payload-verified', 'blob-temp-written', 'blob-written', 'loaded', 'self-tested',
  'state-temp-written', 'committed', 'gc-blob-renamed',
] as const;

/** What open() found wrong and did about it (also logged). */
export interface StoreRecovery {
  /** The active version that could not be verified or loaded. */
  failedVersionId: string;
  /** The version that serves instead (the previous one), if it loaded. */
  restoredVersionId?: string;
  reason: string;
}

const defaultClock = (): number => performance.timeOrigin + performance.now();

function abortError(signal: AbortSignal): AgentError {
  return signal.reason instanceof AgentError ? signal.reason : new AgentError('AGENT_ERR_CANCELLED', 'install aborted');
}

/** An error as the store's callers see it: a file-system failure becomes AGENT_ERR_MODEL_STORE. */
function storeError(error: unknown): AgentError {
  return error instanceof AgentError ? error : new AgentError('AGENT_ERR_MODEL_STORE', (error as Error).message, { cause: error });
}

/** `promise`, or a rejection as soon as `signal` aborts (the download itself is the fetcher's to stop). */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortError(signal));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

export class ModelStore extends EventEmitter<{ changed: [ModelStoreState] }> {
  private current: ModelStoreState = {};
  private activeModel: LoadedModel | undefined;
  private shadowModel: LoadedModel | undefined;
  private installing = false;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly blobs: BlobDir;
  private readonly statePath: string;
  private readonly clock: () => number;
  private readonly log: Logger;
  /** Set when open() could not load the recorded active version. */
  recovery: StoreRecovery | undefined;

  private constructor(private readonly options: ModelStoreOptions) {
    super();
    this.blobs = new BlobDir(options.dir);
    this.statePath = join(options.dir, STATE_FILE);
    this.clock = options.clock ?? defaultClock;
    this.log = options.log ?? silentLogger;
  }

  /** Opens (or creates) the store in `options.dir`, recovering from whatever a crash left there. */
  static async open(options: ModelStoreOptions): Promise<ModelStore> {
    const store = new ModelStore(options);
    await store.recover().catch((error: unknown) => {
      store.close();
      throw storeError(error);
    });
    return store;
  }

  get state(): ModelStoreState {
    return compactState({ ...this.current });
  }

  /** The model that serves now. */
  active(): LoadedModel | undefined {
    return this.activeModel;
  }

  /** The challenger of a shadow run. */
  shadow(): LoadedModel | undefined {
    return this.shadowModel;
  }

  /**
   * Installs a signed bundle: activates it (the replaced version stays as `previous`) or runs it in shadow.
   * Deploying the version that is already active (or already in shadow) returns its recorded self-test at once.
   * @throws AgentError with a code; the store is then as it was (the old version serves, state.json unchanged).
   */
  async install(input: InstallInput): Promise<InstallResult> {
    if (this.installing) throw new AgentError('AGENT_ERR_BUSY', 'another model is being installed');
    this.installing = true;
    try {
      return await this.exclusive(() => this.runInstall(input));
    } catch (error) {
      throw storeError(error);
    } finally {
      this.installing = false;
    }
  }

  /**
   * Puts back the version that was active before `fromVersionId`, or ends a shadow run of it.
   * @returns false when the device neither serves nor shadows `fromVersionId` (nothing to do).
   * @throws AgentError when the previous version cannot be loaded; nothing changes then.
   */
  rollback(fromVersionId: string, reason: string): Promise<boolean> {
    return this.storeErrors(async () => {
      const { active, previous, shadow } = this.current;
      if (active?.versionId !== fromVersionId) return shadow?.versionId === fromVersionId ? this.dropShadow(reason) : false;
      const restored = previous ? await this.loadStored(previous) : undefined;
      this.step('rollback-loaded');
      const next: ModelStoreState = { ...(previous ? { active: { ...previous, activatedAtMs: Math.round(this.clock()) } } : {}), shadow };
      try {
        await this.commit(next);
      } catch (error) {
        restored?.dispose();
        throw error;
      }
      this.swapActive(restored);
      this.log.warn({ fromVersionId, toVersionId: previous?.versionId, reason }, 'model rolled back');
      await this.afterCommit();
      return true;
    });
  }

  /** Ends the shadow run of `versionId`; false when that version is not in shadow. */
  endShadow(versionId: string): Promise<boolean> {
    return this.storeErrors(async () => (this.current.shadow?.versionId === versionId ? this.dropShadow('shadow run ended') : false));
  }

  /** Frees the loaded models (the files stay). */
  close(): void {
    this.activeModel?.dispose();
    this.shadowModel?.dispose();
    this.activeModel = undefined;
    this.shadowModel = undefined;
  }

  private async runInstall(input: InstallInput): Promise<InstallResult> {
    const { signal, mode } = input;
    const manifest = verifiedManifestFor(input.manifest, input.signature, this.options.publicKeyPem, this.options.profile);
    this.step('verified', signal);
    const same = (info: StoredModelInfo | undefined): boolean => info?.versionId === manifest.versionId && info.sha256 === manifest.payload.sha256;
    if (mode === 'activate' && same(this.current.active) && this.activeModel) return this.recorded(this.current.active!);
    if (mode === 'shadow' && same(this.current.shadow) && this.shadowModel) return this.recorded(this.current.shadow!);
    if (mode === 'shadow' && this.current.active?.versionId === manifest.versionId) {
      throw new AgentError('AGENT_ERR_BAD_COMMAND', `${manifest.versionId} already serves; it cannot also run in shadow`);
    }
    input.onPhase?.('downloading');
    // A blob already on disk (the previous version coming back, a shadow being promoted) is not fetched again.
    const stored = await this.blobs.read(manifest.payload.sha256);
    const payload = stored && this.verifies(manifest, stored.payload) ? stored.payload : await abortable(input.payload(), signal);
    this.step('downloaded', signal);
    input.onPhase?.('verifying');
    checkPayload(manifest, payload);
    this.step('payload-verified', signal);
    let model: LoadedModel | undefined;
    let info: StoredModelInfo;
    let result: InstallResult;
    let committing = false;
    try {
      await this.blobs.write(manifest.payload.sha256, { manifest: input.manifest, signature: input.signature, payload }, (name) => this.step(name, signal));
      this.step('blob-written', signal);
      model = await this.load(manifest, payload);
      this.step('loaded', signal);
      result = await this.selfTest(model, input);
      if (mode === 'activate') {
        const floor = selfTestFloorFailure(result.selfTest, manifest.numClasses);
        if (floor) throw new AgentError('AGENT_ERR_SELF_TEST_FAILED', `${manifest.versionId}: ${floor}`);
      }
      this.step('self-tested', signal);
      info = {
        modelId: manifest.modelId, versionId: manifest.versionId, sha256: manifest.payload.sha256, format: manifest.format,
        encoding: manifest.encoding, activatedAtMs: Math.round(this.clock()), selfTest: result.selfTest,
        ...(result.baseline ? { baseline: result.baseline } : {}), ...(input.rolloutId ? { rolloutId: input.rolloutId } : {}),
        ...(input.commandId ? { commandId: input.commandId } : {}),
      };
      // A new champion ends any shadow run: the challenger was measured against the version it replaces.
      committing = true;
      await this.commit(mode === 'activate' ? { active: info, previous: this.current.active } : { ...this.current, shadow: info }, signal);
    } catch (error) {
      model?.dispose();
      // The blob written for this install is garbage now, unless the commit failed after its rename: then the record
      // on disk may name it, and open() sorts it out.
      if (!committing) await this.blobs.collect(referencedBlobs(this.current)).catch((e: Error) => this.log.warn({ err: e.message }, 'model store cleanup failed'));
      this.log.warn({ versionId: manifest.versionId, mode, code: (error as AgentError).code, err: (error as Error).message }, 'model install failed');
      throw error;
    }
    if (mode === 'activate') {
      this.swapActive(model);
      this.dropShadowModel();
    } else {
      this.shadowModel?.dispose();
      this.shadowModel = model;
    }
    this.log.info({ versionId: info.versionId, mode, selfTest: result.selfTest, baseline: result.baseline }, mode === 'activate' ? 'model activated' : 'model shadowing');
    await this.afterCommit();
    return result;
  }

  /** The answer to a deploy of what is already installed: nothing runs again. */
  private recorded(info: StoredModelInfo): InstallResult {
    return { selfTest: info.selfTest ?? { examples: 0 }, ...(info.baseline ? { baseline: info.baseline } : {}) };
  }

  private verifies(manifest: BundleManifest, payload: Uint8Array): boolean {
    try {
      checkPayload(manifest, payload);
      return true;
    } catch {
      return false;
    }
  }

  private async selfTest(model: LoadedModel, input: InstallInput): Promise<InstallResult> {
    const limit = input.selfTestExamples || DEFAULT_SELF_TEST_EXAMPLES;
    const examples = ((await this.options.selfTestData?.()) ?? []).slice(0, limit);
    const { selfTest, baseline, baselineError } = await runPairedSelfTest(model, this.activeModel, examples, this.clock);
    // The baseline is the gate's reference, not a condition: a champion that fails it is reported without one.
    if (baselineError) this.log.warn({ err: baselineError.message }, 'baseline self-test failed');
    return { selfTest, ...(baseline ? { baseline } : {}) };
  }

  /** Runs the loader; anything it throws that is not an AgentError becomes AGENT_ERR_MODEL_LOAD. */
  private async load(manifest: BundleManifest, payload: Uint8Array): Promise<LoadedModel> {
    try {
      return await this.options.loader(manifest, payload);
    } catch (error) {
      if (error instanceof AgentError) throw error;
      throw new AgentError('AGENT_ERR_MODEL_LOAD', `${manifest.versionId}: ${(error as Error).message}`, { cause: error });
    }
  }

  /** Loads a recorded version from its blob after checking the blob is the one recorded (manifest and hash). */
  private async loadStored(info: StoredModelInfo): Promise<LoadedModel> {
    const files = await this.blobs.read(info.sha256);
    if (!files) throw new AgentError('AGENT_ERR_MODEL_STORE', `blob ${info.sha256.slice(0, 12)} of ${info.versionId} is missing`);
    const manifest = asAgentError(() => parseManifest(files.manifest), 'AGENT_ERR_BAD_BUNDLE');
    if (manifest.payload.sha256 !== info.sha256) throw new AgentError('AGENT_ERR_MODEL_STORE', `blob ${info.sha256.slice(0, 12)} holds the manifest of another payload`);
    checkPayload(manifest, files.payload);
    return this.load(manifest, files.payload);
  }

  /** Writes the record (the commit point), then publishes it. */
  private async commit(next: ModelStoreState, signal?: AbortSignal): Promise<void> {
    const state = compactState(next);
    await replaceFileAtomically(this.statePath, stateFileBytes(state), () => this.step('state-temp-written', signal));
    this.current = state;
    this.options.crashPoint?.('committed');
  }

  /** After a commit: tell listeners, then delete the blobs the record no longer names. */
  private async afterCommit(): Promise<void> {
    this.emit('changed', this.state);
    try {
      await this.blobs.collect(referencedBlobs(this.current), (name) => this.step(name));
    } catch (error) {
      // Garbage left now is collected at the next commit or open; the change itself is done.
      this.log.warn({ err: (error as Error).message }, 'model store garbage collection failed');
    }
  }

  private swapActive(model: LoadedModel | undefined): void {
    const old = this.activeModel;
    this.activeModel = model;
    if (old !== model) old?.dispose();
  }

  private dropShadowModel(): void {
    this.shadowModel?.dispose();
    this.shadowModel = undefined;
  }

  private async dropShadow(reason: string): Promise<boolean> {
    const versionId = this.current.shadow?.versionId;
    await this.commit({ ...this.current, shadow: undefined });
    this.dropShadowModel();
    this.log.info({ versionId, reason }, 'shadow run ended');
    await this.afterCommit();
    return true;
  }

  /** A crash point; before the commit also where an abort (cancel, deadline) stops the install. */
  private step(name: string, signal?: AbortSignal): void {
    this.options.crashPoint?.(name);
    if (signal?.aborted) throw abortError(signal);
  }

  /** {@link exclusive}, with file-system failures as AGENT_ERR_MODEL_STORE. */
  private storeErrors<T>(fn: () => Promise<T>): Promise<T> {
    return this.exclusive(fn).catch((error: unknown) => {
      throw storeError(error);
    });
  }

  /** Runs changes one at a time, so each commit starts from the record the previous one wrote. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => {});
    return run;
  }

  /** open(): temp litter out, record read, active (else previous) and shadow loaded, orphan blobs deleted. */
  private async recover(): Promise<void> {
    await mkdir(this.options.dir, { recursive: true });
    await this.blobs.init();
    const litter = (await removeTempLitter(this.blobs.dir)) + (await removeTempLitter(this.options.dir));
    const read = await readStateFile(this.statePath);
    if (read.problem === 'corrupt') this.log.warn({ dir: this.options.dir, detail: read.detail }, 'model store record unreadable: starting empty');
    let state = read.state;
    let changed = false;
    if (state.active) {
      const failed = state.active;
      this.activeModel = await this.loadStored(failed).catch((error: Error) => {
        this.recovery = { failedVersionId: failed.versionId, reason: error.message };
        return undefined;
      });
      if (!this.activeModel) {
        const previous = state.previous;
        this.activeModel = previous ? await this.loadStored(previous).catch(() => undefined) : undefined;
        if (this.activeModel && previous) this.recovery!.restoredVersionId = previous.versionId;
        state = { ...(this.activeModel && previous ? { active: previous } : {}), shadow: state.shadow };
        changed = true;
        this.log.error({ ...this.recovery }, 'active model unusable at open: fell back');
      }
    }
    if (state.shadow) {
      const shadow = state.shadow;
      this.shadowModel = await this.loadStored(shadow).catch((error: Error) => void this.log.warn({ versionId: shadow.versionId, err: error.message }, 'shadow model unusable at open: dropped'));
      if (!this.shadowModel) {
        state = { ...state, shadow: undefined };
        changed = true;
      }
    }
    this.current = compactState(state);
    if (changed) await replaceFileAtomically(this.statePath, stateFileBytes(this.current));
    // An unreadable record names nothing: keep the blobs for inspection rather than delete every version.
    const collected = read.problem === 'corrupt' ? [] : await this.blobs.collect(referencedBlobs(this.current));
    if (litter > 0 || collected.length > 0) this.log.info({ tempFiles: litter, orphanBlobs: collected.length }, 'model store cleaned up');
  }
}
