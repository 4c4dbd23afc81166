/**
 * What "the model fits the device profile" means (DESIGN §4 selection), shared by the hub, which selects, and the
 * device, which refuses: training keeps weights, gradients, the FedProx copy of the global weights and
 * activations — budgeted at 32 bytes per parameter.
 */
export const TRAIN_BYTES_PER_PARAM = 32;

export function trainingMemoryBytes(paramCount: number): number {
  return paramCount * TRAIN_BYTES_PER_PARAM;
}

/**
 * The smallest chunk the hub serves (`fetch` → `chunk`, DESIGN section 2): a device may ask for less, the hub
 * answers with at least this; a device refuses an answer in smaller pieces (all but a last, short chunk).
 */
export const MIN_CHUNK_BYTES = 1024;

/** Most local epochs one training task may ask for: the hub's campaign schema and the device's refusal. */
export const MAX_TASK_EPOCHS = 1_000;
