/**
 * `fedfleet models bundle`: a model version as one signed bundle file (issue 10 item 1, proto/docs/bundles.md) for
 * devices updated by hand (`fedfleet agent --install-bundle <file>`), which verify it with the hub key they enrolled with.
 */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { BUNDLE_FORMATS, ENCODINGS, decodeBundleFile, parseManifest } from '@fedfleet/proto';
import { CLIENT_OPTIONS, parse } from '../args.js';
import { usageError } from '../cli-error.js';
import { downloadFromHub } from '../hub-download.js';
import { printJson, println, type CliIo } from '../io.js';
import { formatBytes } from '../table.js';

export const MODELS_BUNDLE_USAGE =
  '  fedfleet models bundle <name|id> [--version N|latest] [--format tfjs-layers|tflite] [--int8 | --encoding fp32|fp16|int8]\n' +
  '                         [-o <file>] [--json]\n';

const OPTIONS = {
  ...CLIENT_OPTIONS,
  version: { type: 'string', default: 'latest' },
  format: { type: 'string', default: 'tfjs-layers' },
  int8: { type: 'boolean', default: false },
  encoding: { type: 'string' },
  output: { type: 'string', short: 'o' },
} as const;

const oneOf = (list: readonly string[]) => list.join(' | ');

export async function runModelsBundleCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(argv, OPTIONS);
  if (values.help) return io.stdout.write(`Usage:\n${MODELS_BUNDLE_USAGE}`), 0;
  const [model, ...extra] = positionals;
  if (!model || extra.length > 0) throw usageError(`usage:\n${MODELS_BUNDLE_USAGE}`);
  if (!(BUNDLE_FORMATS as readonly string[]).includes(values.format)) throw usageError(`--format ${JSON.stringify(values.format)}: use ${oneOf(BUNDLE_FORMATS)}`);
  if (values.int8 && values.encoding !== undefined) throw usageError('--int8 is --encoding int8: give one of them');
  if (values.encoding !== undefined && !(ENCODINGS as readonly string[]).includes(values.encoding)) {
    throw usageError(`--encoding ${JSON.stringify(values.encoding)}: use ${oneOf(ENCODINGS)}`);
  }
  const encoding = values.int8 ? 'int8' : values.encoding;
  const query = new URLSearchParams({ format: values.format, ...(encoding ? { encoding } : {}) });
  const path = `/v1/models/${encodeURIComponent(model)}/versions/${encodeURIComponent(values.version)}/bundle?${query}`;
  const download = await downloadFromHub(values, io, path);
  // The hub just built it over an authenticated request; the summary below reads it, the device verifies it.
  const manifest = parseManifest(decodeBundleFile(download.bytes).manifest);
  const file = resolve(io.cwd, values.output ?? download.fileName ?? `${model}-${values.version}.bundle`);
  await writeFile(file, download.bytes);
  const written = { path: file, sizeBytes: download.bytes.length, sha256: download.sha256, manifest };
  if (values.json) return printJson(io, written), 0;
  const need = manifest.minProfile;
  println(io.stdout, `wrote ${file}: ${written.sizeBytes} bytes, sha256 ${written.sha256}`);
  println(io.stdout, `  ${manifest.modelName} v${manifest.version} (${manifest.versionId}), ${manifest.format} ${manifest.encoding}, ` +
    `payload ${formatBytes(manifest.payload.sizeBytes)} sha256 ${manifest.payload.sha256}`);
  println(io.stdout, `  needs ${formatBytes(need.ramBytes)} RAM, ${formatBytes(need.flashBytes)} flash, runtime ${need.runtime}` +
    `${need.int8Only ? ' (runs on int8-only devices)' : ''}; signed by hub key ${manifest.keyId}`);
  return 0;
}
