import { setImmediate as realSetImmediate } from 'node:timers';

/**
 * Lets MQTT keepalives, timers and cancellations run between slices of CPU work (training batches, calibration).
 * Immune to fake timers on purpose: tests that fake the clock still let the work advance.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => realSetImmediate(resolve));
}
