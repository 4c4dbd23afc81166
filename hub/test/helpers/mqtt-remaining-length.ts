/** MQTT's Remaining Length as a variable byte integer [MQTT-2.2.3], for hand-made packets (tests and benchmarks). */
export function remainingLength(value: number): Buffer {
  const bytes: number[] = [];
  do {
    let byte = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 0x80;
    bytes.push(byte);
  } while (value > 0);
  return Buffer.from(bytes);
}
