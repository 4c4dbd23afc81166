/**
 * Reads the protocol level of a connection's first CONNECT as its bytes arrive, for the one answer aedes cannot give:
 * MQTT 3.1 and 3.1.1 require a CONNACK with return code 0x01 (unacceptable protocol level) before closing a connection
 * whose level the server does not support [MQTT-3.1.2-2], but aedes' parser (mqtt-packet) takes any level other than
 * 3, 4 and 5 for a malformed packet, and aedes closes such a connection without a word. (Levels 3 to 5 reach aedes,
 * which answers 5 with that CONNACK itself.) The probe keeps at most the first 14 bytes and never looks again.
 */

/** CONNACK, return code 0x01: unacceptable protocol level [MQTT-3.2.2-3]. */
export const UNACCEPTABLE_PROTOCOL_LEVEL_CONNACK: Readonly<Buffer> = Buffer.from([0x20, 0x02, 0x00, 0x01]);

/** Levels aedes' parser reads (3 = MQTT 3.1, 4 = 3.1.1, 5 = MQTT 5), ignoring the bridge bit 0x80 as it does. */
const PARSED_LEVELS = new Set([3, 4, 5]);
const PROTOCOL_NAMES = new Set(['MQTT', 'MQIsdp']);

export class ProtocolLevelProbe {
  private readonly head: number[] = [];
  private settled = false;

  /**
   * Feeds the connection's next bytes. True once they show a CONNECT, under a protocol name MQTT knows, with a level
   * aedes' parser refuses; false otherwise, and from then on.
   */
  unsupported(chunk: Uint8Array): boolean {
    for (let i = 0; i < chunk.length && !this.settled; i++) {
      this.head.push(chunk[i]!);
      const verdict = this.judge();
      if (verdict === undefined) continue;
      this.settled = true;
      this.head.length = 0;
      return verdict;
    }
    return false;
  }

  /** Undefined while more bytes are needed. */
  private judge(): boolean | undefined {
    const head = this.head;
    // Anything but a CONNECT first is aedes' to close [MQTT-3.1.0-1].
    if (head[0] !== 0x10) return false;
    let nameAt = 1;
    while (nameAt < head.length && head[nameAt]! & 0x80) nameAt++;
    if (nameAt > 4) return false; // a malformed Remaining Length: the stream guard's to refuse
    nameAt++;
    if (head.length < nameAt + 2) return undefined;
    const nameBytes = (head[nameAt]! << 8) | head[nameAt + 1]!;
    // Another protocol name: the server may close without a CONNACK [MQTT-3.1.2-1].
    if (nameBytes !== 4 && nameBytes !== 6) return false;
    const levelAt = nameAt + 2 + nameBytes;
    if (head.length <= levelAt) return undefined;
    if (!PROTOCOL_NAMES.has(String.fromCharCode(...head.slice(nameAt + 2, levelAt)))) return false;
    return !PARSED_LEVELS.has(head[levelAt]! & 0x7f);
  }
}
