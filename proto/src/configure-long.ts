// 64-bit fields (timestamps, byte counts) are plain numbers: every value we send stays below 2^53.
// protobufjs returns Long objects while a Long implementation is present, and the generated code reads
// `util.Long` when it loads, so this module must be evaluated before ../generated/fleet.js.
import protobuf from 'protobufjs/minimal.js';

protobuf.util.Long = undefined as unknown as typeof protobuf.util.Long;
protobuf.configure();
