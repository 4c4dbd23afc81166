/**
 * The clock of one simulated device, ms: the host's clock (the same origin and sub-ms resolution the model store and
 * the inference service use by default), except that a microcontroller inference lasts what the MCU resource model
 * estimates for it, not what the host took. The host is not an MCU: its time to run the integer kernels says
 * nothing about a Cortex-M4, while the estimate (MACs × cycles per MAC ÷ clock, proto/docs/mcu-resource-model.md)
 * does. Everything that times an inference through this clock — self-tests, served predictions — then reports the
 * estimate, without the store or the service knowing they run in a simulation.
 */
export class SimDeviceClock {
  /** Device time minus host time: the estimated inference time minus the host time it replaced, summed. */
  private offsetMs = 0;

  /** Milliseconds since the epoch on the device. Monotonic: `simulate` moves it forward by the estimate. */
  readonly now = (): number => performance.timeOrigin + performance.now() + this.offsetMs;

  /**
   * Runs `compute` (the host doing the device's work, synchronously) and makes it take `deviceMs` on this clock.
   * Synchronous on purpose: nothing else reads the clock while the host computes, so every reading before it is
   * `deviceMs` earlier than every reading after it (plus the host time spent outside `compute`).
   */
  simulate<T>(deviceMs: number, compute: () => T): T {
    const startMs = performance.now();
    try {
      return compute();
    } finally {
      this.offsetMs += deviceMs - (performance.now() - startMs);
    }
  }

  /**
   * The host just spent `hostMs` on work the device does `1 / speedFactor` times slower (0 < speedFactor ≤ 1): the
   * clock moves on by the difference, so the device's next reading is as late as the device would be.
   * @returns the device's time for the work, ms.
   */
  slowDown(hostMs: number, speedFactor: number): number {
    const deviceMs = hostMs / Math.min(1, speedFactor);
    this.offsetMs += deviceMs - hostMs;
    return deviceMs;
  }
}
