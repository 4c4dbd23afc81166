import * as tf from '@tensorflow/tfjs';
import { AgentError } from '../errors.js';
import { registerWasmKernels } from './kernels/register-wasm-kernels.js';

/**
 * Which TensorFlow.js backend runs training and inference:
 * - `auto`: `tensorflow` when the optional `@tensorflow/tfjs-node` is installed, else `wasm` (else `cpu` if the
 *   wasm binary cannot be loaded);
 * - `wasm`: `@tensorflow/tfjs-backend-wasm` (XNNPACK, no native addon) — the agent's default on a board;
 * - `cpu`: tfjs' pure JavaScript kernels, slowest but always there;
 * - `tensorflow`: `@tensorflow/tfjs-node` (libtensorflow), fails when it is not installed.
 */
export type BackendPreference = 'auto' | 'wasm' | 'cpu' | 'tensorflow';

export interface BackendOptions {
  /**
   * Folder holding `tfjs-backend-wasm*.wasm`, for a bundled agent whose wasm files are not next to the
   * package. Default: the files inside the installed `@tensorflow/tfjs-backend-wasm` package.
   */
  wasmDir?: string;
}

// Through a variable, so neither TypeScript nor a bundler tries to resolve the optional package.
const TFJS_NODE: string = '@tensorflow/tfjs-node';

let tfjsNodeLoad: Promise<boolean> | undefined;
let wasmLoad: Promise<boolean> | undefined;

function loadTfjsNode(): Promise<boolean> {
  tfjsNodeLoad ??= import(TFJS_NODE).then(
    // tfjs-node registers 'tensorflow' on its own copy of tfjs-core; it counts only if that copy is ours.
    () => tf.findBackendFactory('tensorflow') != null,
    () => false,
  );
  return tfjsNodeLoad;
}

function loadWasm(options: BackendOptions): Promise<boolean> {
  wasmLoad ??= import('@tensorflow/tfjs-backend-wasm').then(
    (wasm) => {
      if (options.wasmDir !== undefined) {
        wasm.setWasmPaths(options.wasmDir.endsWith('/') ? options.wasmDir : `${options.wasmDir}/`);
      }
      registerWasmKernels();
      return true;
    },
    () => false,
  );
  return wasmLoad;
}

const activations = new Map<string, Promise<boolean>>();

/**
 * Makes `name` the active backend. Concurrent callers share one initialisation: tfjs reports the new backend name
 * as soon as `setBackend` starts, before its (asynchronous) initialisation has finished.
 */
function activate(name: string): Promise<boolean> {
  // engine().backendName, not getBackend(): the latter would initialise some default backend as a side effect.
  const pending = activations.get(name);
  if (pending && tf.engine().backendName === name) return pending;
  const activation = tf.setBackend(name).catch(() => false);
  activations.set(name, activation);
  return activation;
}

/**
 * Selects and initialises the TensorFlow.js backend; returns its name (`tensorflow`, `wasm` or `cpu`).
 * Idempotent and cheap when the backend is already active. `@tensorflow/tfjs-node` is only ever loaded with a
 * dynamic import and is never required. Throws `AGENT_ERR_BACKEND` when an explicitly requested backend is
 * unavailable.
 */
export async function initBackend(preference: BackendPreference = 'auto', options: BackendOptions = {}): Promise<string> {
  switch (preference) {
    case 'tensorflow':
      if ((await loadTfjsNode()) && (await activate('tensorflow'))) return 'tensorflow';
      throw new AgentError('AGENT_ERR_BACKEND', '@tensorflow/tfjs-node is not installed or failed to load');
    case 'wasm':
      if ((await loadWasm(options)) && (await activate('wasm'))) return 'wasm';
      throw new AgentError('AGENT_ERR_BACKEND', 'the wasm backend failed to initialise (are the .wasm files in place?)');
    case 'cpu':
      if (await activate('cpu')) return 'cpu';
      throw new AgentError('AGENT_ERR_BACKEND', 'the cpu backend failed to initialise');
    case 'auto':
      if ((await loadTfjsNode()) && (await activate('tensorflow'))) return 'tensorflow';
      if ((await loadWasm(options)) && (await activate('wasm'))) return 'wasm';
      if (await activate('cpu')) return 'cpu';
      throw new AgentError('AGENT_ERR_BACKEND', 'no backend could be initialised');
    default:
      throw new AgentError('AGENT_ERR_BACKEND', `unknown backend ${JSON.stringify(preference)}`);
  }
}
