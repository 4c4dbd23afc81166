import { AgentError, int8Loader, silentLogger, type LoadedModel, type Logger, type ModelLoader } from '@fedfleet/agent';
import { bundleLoader } from '@fedfleet/agent/training';
import type { BundleManifest, McuFit } from '@fedfleet/proto';
import type { SimDeviceClock } from './device-clock.js';
import { mcuInt8LoadAdmission } from './model-fit.js';
import { wireProfile, type SimProfile } from './profiles.js';

export interface SimModelLoaderOptions {
  /** The device's clock: a microcontroller inference advances it by its estimated latency. */
  clock: SimDeviceClock;
  /** A microcontroller admitted a model: its flash, arena and estimated latency per inference. */
  onFit?: (fit: McuFit, manifest: BundleManifest) => void;
  log?: Logger;
}

/** An int8 model as a microcontroller runs it: each inference takes the resource model's estimate on the device clock. */
function mcuTimedModel(model: LoadedModel, fit: McuFit, clock: SimDeviceClock): LoadedModel {
  return {
    manifest: model.manifest,
    // The int8 loader computes synchronously inside predict(), so the host's compute happens within simulate();
    // the compute time the prediction reports is the device's, the estimate.
    predict: async (input) => ({ ...(await clock.simulate(fit.estLatencyMs, () => model.predict(input))), computeMs: fit.estLatencyMs }),
    dispose: () => model.dispose(),
  };
}

/**
 * A model on a Linux-class board slower than this host: its inference takes the host's compute time ÷ the profile's
 * speedFactor on the device clock (an rpi4 at 0.5 takes twice the host's time). tfjs and int8 predictions report
 * their compute time (`computeMs`, measured around the synchronous kernels), which is what is scaled.
 */
function speedScaledModel(model: LoadedModel, speedFactor: number, clock: SimDeviceClock): LoadedModel {
  return {
    manifest: model.manifest,
    predict: async (input) => {
      const prediction = await model.predict(input);
      return { ...prediction, computeMs: clock.slowDown(prediction.computeMs ?? 0, speedFactor) };
    },
    dispose: () => model.dispose(),
  };
}

/**
 * The loader of a simulated device's model store. Linux-class profiles load what an agent loads (TensorFlow.js for
 * tfjs-layers payloads, the integer kernels for int8 .tflite), each inference slowed on the device clock by the
 * profile's speedFactor. Microcontroller profiles have no float kernels and no
 * TensorFlow.js: they load only int8 .tflite payloads, through the integer-only kernels, after judging the decoded
 * graph against their flash and tensor arena (the MCU resource model) — whatever the manifest's minimum profile
 * claims — and refuse the rest with AGENT_ERR_CANNOT_RUN_FLOAT or AGENT_ERR_MODEL_TOO_LARGE and the numbers.
 */
export function simModelLoader(profile: SimProfile, options: SimModelLoaderOptions): ModelLoader {
  const fits = new WeakMap<BundleManifest, McuFit>();
  const log = options.log ?? silentLogger;
  const admit = mcuInt8LoadAdmission(profile, (fit, manifest) => {
    fits.set(manifest, fit);
    log.info({ profile: profile.kind, versionId: manifest.versionId, estLatencyMs: fit.estLatencyMs, macs: fit.macs, arenaBytes: fit.arenaBytes, flashBytes: fit.flashBytes }, 'int8 model fits');
    options.onFit?.(fit, manifest);
  });
  if (!admit) {
    const load = bundleLoader({ profile: wireProfile(profile) });
    return async (manifest, payload) => speedScaledModel(await load(manifest, payload), profile.speedFactor, options.clock);
  }
  const int8 = int8Loader({ admit });
  return async (manifest, payload) => {
    if (manifest.format !== 'tflite' || manifest.encoding !== 'int8') {
      throw new AgentError('AGENT_ERR_CANNOT_RUN_FLOAT', `${manifest.encoding} ${manifest.format} model on ${profile.kind}: profile runs int8 .tflite models only`);
    }
    const model = await int8(manifest, payload);
    const fit = fits.get(manifest);
    if (!fit) {
      model.dispose();
      throw new AgentError('AGENT_ERR_MODEL_LOAD', `${manifest.versionId}: loaded without a fit check`);
    }
    return mcuTimedModel(model, fit, options.clock);
  };
}
