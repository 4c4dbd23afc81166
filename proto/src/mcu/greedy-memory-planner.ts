/**
 * Offsets for buffers with known lifetimes, placed as TensorFlow Lite Micro's GreedyMemoryPlanner does
 * (tensorflow/lite/micro/memory_planner/greedy_memory_planner.cc): largest buffer first, each at the lowest offset
 * where it overlaps no already-placed buffer that is alive at the same time. The arena is the highest end offset.
 */
export interface PlannedBuffer {
  sizeBytes: number;
  /** First and last operator index (inclusive) at which the buffer must hold its contents. */
  firstUse: number;
  lastUse: number;
}

/** TFLite Micro aligns every planned buffer to 16 bytes (MicroArenaBufferAlignment). */
export const ARENA_ALIGNMENT_BYTES = 16;

export function alignUp(bytes: number, alignment = ARENA_ALIGNMENT_BYTES): number {
  return Math.ceil(bytes / alignment) * alignment;
}

/** Offset of each buffer (same order as `buffers`) and the arena size the plan needs, bytes. */
export function planGreedy(buffers: readonly PlannedBuffer[]): { offsets: number[]; arenaBytes: number } {
  const order = buffers.map((_, i) => i).sort((a, b) => buffers[b]!.sizeBytes - buffers[a]!.sizeBytes || a - b);
  const offsets = new Array<number>(buffers.length).fill(0);
  const placed: number[] = [];
  let arenaBytes = 0;
  for (const index of order) {
    const buffer = buffers[index]!;
    const size = alignUp(buffer.sizeBytes);
    const live = placed
      .filter((other) => buffers[other]!.firstUse <= buffer.lastUse && buffer.firstUse <= buffers[other]!.lastUse)
      .sort((a, b) => offsets[a]! - offsets[b]!);
    let candidate = 0;
    for (const other of live) {
      if (candidate + size <= offsets[other]!) break; // fits in the gap below `other`
      candidate = Math.max(candidate, offsets[other]! + alignUp(buffers[other]!.sizeBytes));
    }
    offsets[index] = candidate;
    placed.push(index);
    arenaBytes = Math.max(arenaBytes, candidate + size);
  }
  return { offsets, arenaBytes };
}
