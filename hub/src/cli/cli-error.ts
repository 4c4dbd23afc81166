/** An error the CLI reports as `error <CODE>: message` (exit code 1). Codes come from the hub's registry or its API. */
import { HUB_ERRORS, type HubErrorCode } from '../errors.js';

export class CliError extends Error {
  /** A HUB_ERR_* code: one of the CLI's own, or whatever the hub's API answered. */
  readonly code: string;
  constructor(code: HubErrorCode | (string & {}), message?: string) {
    super(message ?? (HUB_ERRORS as Record<string, { message: string }>)[code]?.message ?? code);
    this.name = 'CliError';
    this.code = code;
  }
}

export function usageError(message: string): CliError {
  return new CliError('HUB_ERR_CLI_USAGE', message);
}
