/**
 * Counts artifact bytes sent to devices. Rounds and rollouts subscribe with `onTransfer` to attribute bytes to
 * their own work (DESIGN section 4: bytes on the wire are counted per round).
 */
import type { Counter } from '../metrics/metrics-registry.js';

export interface Transfer {
  deviceId: string;
  sha256: string;
  bytes: number;
}

export interface TransferMeter {
  record(transfer: Transfer): void;
  /** Artifact bytes sent to one device since the hub started. */
  bytesSent(deviceId: string): number;
  totalBytesSent(): number;
  onTransfer(listener: (transfer: Transfer) => void): () => void;
}

export function createTransferMeter(counter?: Counter): TransferMeter {
  const byDevice = new Map<string, number>();
  const listeners = new Set<(transfer: Transfer) => void>();
  let total = 0;
  return {
    record(transfer) {
      byDevice.set(transfer.deviceId, (byDevice.get(transfer.deviceId) ?? 0) + transfer.bytes);
      total += transfer.bytes;
      counter?.inc({}, transfer.bytes);
      for (const listener of listeners) listener(transfer);
    },
    bytesSent: (deviceId) => byDevice.get(deviceId) ?? 0,
    totalBytesSent: () => total,
    onTransfer(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
  };
}
