/**
 * What "the model fits the device profile" means (DESIGN §4 selection), shared by the hub, which selects, and the
 * device, which refuses: training keeps weights, gradients, the FedProx copy of the global weights and
 * activations — budgeted at 32 bytes per parameter.
 */
export const TRAIN_BYTES_PER_PARAM = 32;

export function trainingMemoryBytes(paramCount: number): number {
  return paramCount * TRAIN_BYTES_PER_PARAM;
}
