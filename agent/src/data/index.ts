export * from './csv.js';
export * from './dataset.js';
export * from './disk-manifest.js';
export * from './disk-source.js';
export * from './disk-writer.js';
// The data and ML layers throw the agent's own errors (one registry per package: ../errors.ts).
export { AGENT_ERROR_CODES, AgentError, isAgentError, type AgentErrorCode } from '../errors.js';
export * from './mnist-digits.js';
export * from './mnist-source.js';
export * from './partition.js';
export * from './rng.js';
