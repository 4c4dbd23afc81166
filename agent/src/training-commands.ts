import type { HardwareProfileProps } from '@fedfleet/proto';
import { calibrateHandler } from './commands/calibrate.js';
import type { CommandContext, CommandTable } from './commands/command-handler.js';
import { evaluateHandler } from './commands/evaluate.js';
import type { Int8ModelAdmission } from './commands/evaluate-int8.js';
import { trainHandler } from './commands/train.js';
import type { DataSource } from './data/index.js';

export interface TrainingCommandOptions {
  /** The device's local labelled data; without it training, evaluation and calibration are refused with AGENT_ERR_NO_DATA. */
  dataSource: DataSource | undefined;
  profile: HardwareProfileProps;
  beforeTrain?: (ctx: CommandContext) => Promise<void>;
  /** Judges a decoded int8 (.tflite) model before evaluation runs it; firmware-sim's microcontrollers check their flash and arena. */
  admitInt8Model?: Int8ModelAdmission;
}

/** The `train`, `eval` and `calibrate` command handlers bound to one device's data. */
export function createTrainingCommands(options: TrainingCommandOptions): CommandTable {
  return {
    train: trainHandler(options),
    eval: evaluateHandler(options),
    calibrate: calibrateHandler(options),
  };
}

export { dataSourceFromSpec } from './data-spec.js';
export { TFLITE_FORMAT, evaluateInt8Graph, type Int8ModelAdmission } from './commands/evaluate-int8.js';
export { bundleLoader, tfjsLoader, type BundleLoaderOptions } from './model-store/tfjs-loader.js';
export { openAgentModelStore, type AgentStoreOptions } from './model-store/agent-store.js';
export { runInstallBundle } from './model-store/install-bundle.js';
export type { DataSource, Dataset } from './data/index.js';
