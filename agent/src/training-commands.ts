import type { HardwareProfileProps } from '@fedfleet/proto';
import type { CommandContext, CommandTable } from './commands/command-handler.js';
import { evaluateHandler } from './commands/evaluate.js';
import { trainHandler } from './commands/train.js';
import type { DataSource } from './data/index.js';

export interface TrainingCommandOptions {
  /** The device's local labelled data; without it training and evaluation are refused with AGENT_ERR_NO_DATA. */
  dataSource: DataSource | undefined;
  profile: HardwareProfileProps;
  beforeTrain?: (ctx: CommandContext) => Promise<void>;
}

/** The `train` and `eval` command handlers bound to one device's data. */
export function createTrainingCommands(options: TrainingCommandOptions): CommandTable {
  return {
    train: trainHandler(options),
    eval: evaluateHandler(options),
  };
}

export { dataSourceFromSpec } from './data-spec.js';
