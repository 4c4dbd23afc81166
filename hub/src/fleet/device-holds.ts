/**
 * The one notion of a "busy" device: a device some capability has given work that occupies it now — a round that is
 * selecting or training, a quantization job calibrating on it or evaluating its int8 file there. Each capability
 * registers what it holds; every capability that picks devices asks `busy()`, so a device is never told to train and
 * to calibrate at once (both on one CPU, and a slow reply fails the round). Capabilities register a function rather
 * than import each other: rounds know nothing of quantization and the imports stay pointed one way.
 */

/** The devices one capability holds now (read from its committed rows: nothing can take a device between pick and insert). */
export type HeldDevices = () => Iterable<string>;

export class DeviceHolds {
  private readonly holders = new Map<string, HeldDevices>();

  /**
   * Registers what `owner` holds; returns the function that unregisters it.
   * @throws Error when `owner` already registered (two holders under one name would hide each other).
   */
  register(owner: string, held: HeldDevices): () => void {
    if (this.holders.has(owner)) throw new Error(`device holder ${JSON.stringify(owner)} registered twice`);
    this.holders.set(owner, held);
    return () => {
      if (this.holders.get(owner) === held) this.holders.delete(owner);
    };
  }

  /** Devices any capability holds now. */
  busy(): Set<string> {
    const busy = new Set<string>();
    for (const held of this.holders.values()) for (const deviceId of held()) busy.add(deviceId);
    return busy;
  }
}
