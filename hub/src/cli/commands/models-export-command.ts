/**
 * `fedfleet models export`: a model version as a TensorFlow Lite flatbuffer for any TFLite toolchain (issue 9 item
 * 5) — the float model, or with --int8 the fully int8 model of the version's latest completed quantization.
 */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { CLIENT_OPTIONS, parse } from '../args.js';
import { usageError } from '../cli-error.js';
import { downloadFromHub } from '../hub-download.js';
import { printJson, println, type CliIo } from '../io.js';

export const MODELS_EXPORT_USAGE =
  '  fedfleet models export <name|id> [--version N|latest] [--format tflite] [--int8] [-o <file>] [--json]\n';

const OPTIONS = {
  ...CLIENT_OPTIONS,
  version: { type: 'string', default: 'latest' },
  format: { type: 'string', default: 'tflite' },
  int8: { type: 'boolean', default: false },
  output: { type: 'string', short: 'o' },
} as const;

export async function runModelsExportCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(argv, OPTIONS);
  if (values.help) return io.stdout.write(`Usage:\n${MODELS_EXPORT_USAGE}`), 0;
  const [model, ...extra] = positionals;
  if (!model || extra.length > 0) throw usageError(`usage:\n${MODELS_EXPORT_USAGE}`);
  if (values.format !== 'tflite') throw usageError(`--format ${JSON.stringify(values.format)}: the export format is tflite`);
  const encoding = values.int8 ? 'int8' : 'fp32';
  const path = `/v1/models/${encodeURIComponent(model)}/versions/${encodeURIComponent(values.version)}/artifact?format=tflite&encoding=${encoding}`;
  const download = await downloadFromHub(values, io, path);
  const file = resolve(io.cwd, values.output ?? download.fileName ?? `${model}-${values.version}${values.int8 ? '-int8' : ''}.tflite`);
  await writeFile(file, download.bytes);
  const written = { path: file, sizeBytes: download.bytes.length, sha256: download.sha256, encoding };
  if (values.json) return printJson(io, written), 0;
  println(io.stdout, `wrote ${file}: ${written.sizeBytes} bytes, sha256 ${written.sha256}`);
  return 0;
}
