import type { CommandTable } from './commands/command-handler.js';
import type { Logger } from './logger.js';

/** Training and evaluation handlers for the agent, bound to its local data source. */
export async function createTrainingCommands(_options: { data: string | undefined; log: Logger }): Promise<CommandTable> {
  return {};
}
