/**
 * `fedfleet agent …` and `fedfleet sim …` live in their own packages and are imported only when used, so the hub
 * neither loads TensorFlow.js nor depends on them at type-check time.
 */
import { CliError } from '../cli-error.js';

interface AgentCli {
  runAgentCommand(argv: string[]): Promise<number>;
}

interface SimCli {
  runSimCommand(argv: string[]): Promise<number>;
}

async function importCli<T>(specifier: string, what: string): Promise<T> {
  try {
    return (await import(specifier)) as T;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const missing = (code === 'ERR_MODULE_NOT_FOUND' || code === 'ERR_PACKAGE_PATH_NOT_EXPORTED') && String((error as Error).message).includes(specifier.split('/').slice(0, 2).join('/'));
    if (missing) throw new CliError('HUB_ERR_CLI_UNAVAILABLE', `${what} is not installed (${specifier} could not be loaded)`);
    throw error;
  }
}

export async function runAgentCommand(argv: string[]): Promise<number> {
  const specifier: string = '@fedfleet/agent/cli';
  return (await importCli<AgentCli>(specifier, 'the fedfleet agent')).runAgentCommand(argv);
}

export async function runSimCommand(argv: string[]): Promise<number> {
  const specifier: string = '@fedfleet/firmware-sim/cli';
  return (await importCli<SimCli>(specifier, 'the fedfleet firmware simulator')).runSimCommand(argv);
}
