import type { Dataset } from '../data/dataset.js';
import type { Logger } from '../logger.js';
import { InferenceService, type ServingSource } from './inference-service.js';
import { startServingServer, type ServingServer } from './serving-server.js';

export interface AgentServing {
  /** The device's one inference path; the agent puts its counts into telemetry. */
  service: InferenceService;
  /** The endpoint, unless serving is off. */
  server?: ServingServer;
  close(): Promise<void>;
}

/**
 * `fedfleet agent`'s serving: the inference path over `source` (the model store) and, unless `serve` is false,
 * the local endpoint on 127.0.0.1:`servePort` (0 = any free port; the port it got is logged). `trainingData`, the
 * device's training split, is the baseline of the input histogram telemetry reports.
 * @throws AgentError AGENT_ERR_SERVE_FAILED when the port is taken.
 */
export async function startAgentServing(
  source: ServingSource, config: { serve: boolean; servePort: number }, log: Logger, trainingData?: () => Dataset | undefined,
): Promise<AgentServing> {
  const service = new InferenceService(source, { log, ...(trainingData ? { inputs: { trainingData } } : {}) });
  if (!config.serve) {
    log.info({}, 'local inference endpoint off (--no-serve)');
    return { service, close: async () => {} };
  }
  const server = await startServingServer(service, { port: config.servePort, log });
  log.info({ host: '127.0.0.1', port: server.port }, 'local inference endpoint listening');
  return { service, server, close: () => server.close() };
}
