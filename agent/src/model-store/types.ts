import type { BundleFormat, BundleManifest, Encoding, SelfTestProps } from '@fedfleet/proto';

/**
 * The public types of the on-device model store (DESIGN.md §5): what a loaded model offers, how a payload becomes
 * one, and the record of which versions the device keeps. Serving (agent/src/serving) and firmware-sim code against
 * these; the store itself is in model-store.ts.
 */

/** One inference result. */
export interface Prediction {
  /** Arg-max class. */
  classIndex: number;
  /** Probabilities (float models) or dequantized int8 logits, one per class. */
  scores: Float32Array;
  /**
   * The model's own compute time for this prediction, ms, measured around its synchronous work. The self-test reports
   * it as latency: the health gate compares what the models cost, not how long other work on the host (other
   * processes, or the other devices of a simulated fleet sharing one event loop) kept the answer waiting. Absent: the
   * self-test times the call.
   */
  computeMs?: number;
}

/** A model ready to serve, loaded from a verified bundle payload. */
export interface LoadedModel {
  /** modelId, versionId, format, encoding, payload.sha256, input shape, numClasses. */
  readonly manifest: BundleManifest;
  /**
   * Classifies one example.
   * @param input length = product of `manifest.input.shape`.
   * @throws AgentError AGENT_ERR_BAD_INPUT when the length is wrong or a value is not finite.
   */
  predict(input: Float32Array): Promise<Prediction>;
  /** Frees the runtime resources (tfjs tensors). Idempotent. */
  dispose(): void;
}

/**
 * Turns a verified payload into a LoadedModel.
 * @throws AgentError AGENT_ERR_MODEL_LOAD, AGENT_ERR_MODEL_TOO_LARGE or AGENT_ERR_CANNOT_RUN_FLOAT.
 */
export type ModelLoader = (manifest: BundleManifest, payload: Uint8Array) => Promise<LoadedModel>;

/** One held-out local example for the self-test. */
export interface SelfTestExample {
  x: Float32Array;
  label: number;
}

/** What the store records about one kept version (state.json). */
export interface StoredModelInfo {
  modelId: string;
  versionId: string;
  /** Lowercase hex sha256 of the payload; also the blob directory name. */
  sha256: string;
  format: BundleFormat;
  encoding: Encoding;
  /** When this version became active (or started shadowing), from the store's clock. */
  activatedAtMs: number;
  /** The self-test this version passed at install. */
  selfTest?: SelfTestProps;
  /** The version it replaced (or ran beside, in shadow), on the same examples. */
  baseline?: SelfTestProps;
  /** The rollout and the deploy command that installed it, when one did (a shadow run's periodic reports name them, also after a restart). */
  rolloutId?: string;
  commandId?: string;
}

/** The one record of which versions the device keeps: serving, the one before it, and a shadow challenger. */
export interface ModelStoreState {
  active?: StoredModelInfo;
  previous?: StoredModelInfo;
  shadow?: StoredModelInfo;
}

/** How an install runs the new version. */
export type InstallMode = 'activate' | 'shadow';

/** The phases an install reports before its outcome (DeployPhase DOWNLOADING, VERIFYING). */
export type InstallPhase = 'downloading' | 'verifying';

export interface InstallInput {
  /** Canonical manifest bytes, as signed. */
  manifest: Uint8Array;
  /** Ed25519 signature over `manifest` by the hub key. */
  signature: Uint8Array;
  /** Fetches the payload; called only after the signature and the profile check pass. */
  payload: () => Promise<Uint8Array>;
  mode: InstallMode;
  /** Recorded with the version (StoredModelInfo.rolloutId, commandId). */
  rolloutId?: string;
  commandId?: string;
  /** How many held-out examples the self-test runs (default: the store's default). */
  selfTestExamples?: number;
  onPhase?: (phase: InstallPhase) => void;
  /** Aborting stops the install between steps (AGENT_ERR_CANCELLED / the signal's reason); state is unchanged. */
  signal?: AbortSignal;
}

export interface InstallResult {
  /** The new version on the held-out examples. */
  selfTest: SelfTestProps;
  /** The version active before, on the same examples (absent when nothing was active). */
  baseline?: SelfTestProps;
}
