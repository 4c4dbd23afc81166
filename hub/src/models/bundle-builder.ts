/**
 * Signed model bundles (issue 10 item 1, proto/docs/bundles.md): a version's payload in a format and encoding, with
 * a canonical manifest signed by the hub's Ed25519 identity. The payload is a content-addressed blob, so a device
 * fetches it by sha256 over fetch/chunk (resumable); the manifest and signature travel in DeployModel, or all three in
 * one bundle file for devices updated by hand. Builds are memoized per (version, format, encoding): repeated builds
 * return the same bytes, and only createdAtMs tells two processes' builds apart.
 */
import {
  encodeBundleFile, publicKeyId, signManifest, type BundleFormat, type BundleManifest, type Encoding, type ModelRefProps,
} from '@fedfleet/proto';
import type { HubIdentity } from '../auth/hub-identity.js';
import type { Clock } from '../clock.js';
import { HubError } from '../errors.js';
import type { BlobStore } from '../store/blobs.js';
import { int8TfliteProfile, tfjsProfile, type MinProfile } from './bundle-profile.js';
import type { ModelRegistry, ModelRecord, VersionRecord } from './model-registry.js';
import { int8TfliteRefOf, modelRefOf } from './model-ref.js';
import { safeFileStem, type TfliteExporter } from './tflite-export.js';

/** Media type of a bundle file (fleet.proto ModelBundle). */
export const BUNDLE_MEDIA_TYPE = 'application/vnd.fedfleet.bundle';
/** Memoized builds kept; beyond it the oldest is dropped (it is rebuilt, with a new createdAtMs, if asked again). */
const MAX_CACHED_BUILDS = 256;

export interface BundleTarget {
  format: BundleFormat;
  encoding: Encoding;
}

export interface BundleBuild {
  manifest: BundleManifest;
  manifestBytes: Uint8Array;
  signature: Uint8Array;
  /** The payload as a device fetches it (sha256, size, chunk size; `format` tfjs-layers or tflite). */
  payload: ModelRefProps;
}

export interface BundleBuilderOptions {
  models: ModelRegistry;
  blobs: BlobStore;
  /** Finds a version's int8 .tflite (the latest completed quantization). */
  tflite: Pick<TfliteExporter, 'export'>;
  identity: Pick<HubIdentity, 'publicKeyPem' | 'sign'>;
  clock: Pick<Clock, 'now'>;
}

/** A download file name: `<model>-v<N>-<format>-<encoding>.bundle`, the model name made safe for headers and disks. */
export function bundleFileName(modelName: string, version: number, target: BundleTarget): string {
  return `${safeFileStem(modelName)}-v${version}-${target.format}-${target.encoding}.bundle`;
}

export class BundleBuilder {
  private readonly builds = new Map<string, Promise<BundleBuild>>();
  private readonly keyId: string;

  constructor(private readonly options: BundleBuilderOptions) {
    this.keyId = publicKeyId(options.identity.publicKeyPem);
  }

  /**
   * The signed bundle of `versionId` in `target`: tflite carries the int8 model of the latest completed quantization
   * (runtime int8-kernels), tfjs-layers the registry's ModelBlob in the encoding (runtime tfjs).
   * @throws HubError HUB_ERR_VERSION_NOT_FOUND, HUB_ERR_VALIDATION (tflite in fp32 or fp16), HUB_ERR_NOT_QUANTIZED,
   *   HUB_ERR_EXPORT_UNSUPPORTED (an op or an input shape the bundle cannot state), HUB_ERR_ARTIFACT_NOT_FOUND.
   */
  async build(versionId: string, target: BundleTarget): Promise<BundleBuild> {
    if (target.format === 'tflite' && target.encoding !== 'int8') {
      throw new HubError('HUB_ERR_VALIDATION', {
        message: 'format=tflite bundles carry the int8 model (encoding=int8); a float model is bundled as format=tfjs-layers',
      });
    }
    const key = `${versionId}/${target.format}/${target.encoding}`;
    const known = this.builds.get(key);
    if (known) {
      const build = await known.catch(() => undefined);
      if (build && (await this.isCurrent(build, versionId, target))) return build;
    }
    const building = this.signedBuild(versionId, target);
    this.builds.delete(key);
    this.builds.set(key, building);
    if (this.builds.size > MAX_CACHED_BUILDS) this.builds.delete(this.builds.keys().next().value!);
    // A failure is not remembered: the next request tries again.
    building.catch(() => this.builds.get(key) === building && this.builds.delete(key));
    return building;
  }

  /** The one-file bundle (fleet.proto ModelBundle) of `build(versionId, target)`. */
  async file(versionId: string, target: BundleTarget): Promise<Uint8Array> {
    const build = await this.build(versionId, target);
    const payload = await this.options.blobs.get(build.payload.sha256!);
    if (!payload) throw new HubError('HUB_ERR_ARTIFACT_NOT_FOUND', { message: `payload ${build.payload.sha256} of version ${versionId} is missing` });
    return encodeBundleFile({ manifest: build.manifestBytes, signature: build.signature, payload });
  }

  /** A memoized build still names the blob and, for tflite, the latest quantization (a newer one replaces it). */
  private async isCurrent(build: BundleBuild, versionId: string, target: BundleTarget): Promise<boolean> {
    if (!this.options.blobs.has(build.payload.sha256!)) return false;
    if (target.format !== 'tflite') return true;
    const { version, model } = this.lookup(versionId);
    const latest = await this.options.tflite.export(version, model.name, 'int8').catch(() => undefined);
    return latest?.sha256 === build.payload.sha256;
  }

  private lookup(versionId: string): { version: VersionRecord; model: ModelRecord } {
    const version = this.options.models.getVersion(versionId);
    return { version, model: this.options.models.getModel(version.modelId) };
  }

  private async signedBuild(versionId: string, target: BundleTarget): Promise<BundleBuild> {
    const { models, blobs } = this.options;
    const { version, model } = this.lookup(versionId);
    const label = `version ${version.version} of ${model.name}`;
    if (model.inputShape.length === 0 || model.inputShape.some((dim) => !(dim >= 1))) {
      throw new HubError('HUB_ERR_EXPORT_UNSUPPORTED', { message: `${label} cannot be bundled: input shape [${model.inputShape.join(', ')}] has an unknown dimension` });
    }
    let payload: ModelRefProps;
    let minProfile: MinProfile;
    const deps = { registry: models, blobs };
    if (target.format === 'tflite') {
      const exported = await this.options.tflite.export(version, model.name, 'int8');
      const bytes = await blobs.get(exported.sha256);
      if (!bytes) throw new HubError('HUB_ERR_ARTIFACT_NOT_FOUND', { message: `int8 .tflite ${exported.sha256} of ${label} is missing` });
      payload = await int8TfliteRefOf(deps, versionId, exported.sha256);
      minProfile = int8TfliteProfile(label, bytes);
    } else {
      payload = await modelRefOf(deps, versionId, target.encoding);
      const { topologyJson } = await models.loadContent(versionId);
      minProfile = tfjsProfile({ topologyJson, paramCount: version.paramCount, inputShape: model.inputShape, payloadBytes: Number(payload.sizeBytes) });
    }
    const manifest: BundleManifest = {
      bundleVersion: 1, modelId: model.id, modelName: model.name, versionId, version: version.version,
      format: target.format, encoding: target.encoding,
      payload: { sha256: payload.sha256!, sizeBytes: Number(payload.sizeBytes) },
      minProfile, input: { shape: [...model.inputShape] }, numClasses: model.numClasses,
      createdAtMs: this.options.clock.now(), keyId: this.keyId,
    };
    const signed = signManifest(manifest, (data) => this.options.identity.sign(data));
    return { manifest, manifestBytes: signed.manifest, signature: signed.signature, payload };
  }
}
