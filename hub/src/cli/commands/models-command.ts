/** `fedfleet models ls|show|create|import|versions|quantize|export|bundle`: the model registry. */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { McuFitView } from '../../models/mcu-fit-view.js';
import type { ModelRecord, VersionRecord } from '../../models/model-registry.js';
import type { QuantizationJson } from '../../quantize/schemas.js';
import { CLIENT_OPTIONS, parse } from '../args.js';
import { usageError } from '../cli-error.js';
import { createHubClient } from '../hub-client.js';
import { printJson, println, type CliIo } from '../io.js';
import { printQuantizations } from '../quantization-view.js';
import { formatBytes, formatTable } from '../table.js';
import { MODELS_BUNDLE_USAGE, runModelsBundleCommand } from './models-bundle-command.js';
import { MODELS_EXPORT_USAGE, runModelsExportCommand } from './models-export-command.js';
import { MODELS_QUANTIZE_USAGE, runModelsQuantizeCommand } from './models-quantize-command.js';

export const MODELS_USAGE = `Usage:
  fedfleet models ls [--json]
  fedfleet models create --name <name> --arch mnist-2nn|tiny-cnn [--seed 1] [--json]
  fedfleet models import <model.json> --name <name> [--json]     (TensorFlow.js layers model, float32 weights)
  fedfleet models show <name|id> [--version N|latest] [--json]   (with flash, arena, fit and latency per encoding and MCU profile,
                                                                 and the version's quantizations)
  fedfleet models versions <name|id> [--json]
${MODELS_QUANTIZE_USAGE}${MODELS_EXPORT_USAGE}${MODELS_BUNDLE_USAGE}
quantize calibrates the version's activation ranges on the fleet's devices (they report statistics, never examples)
or on an uploaded data set, builds its int8 .tflite and waits for it with a progress bar (devices reported / asked).
export writes the version as a TensorFlow Lite flatbuffer: the float model, or with --int8 the quantized one.
bundle writes the version as a bundle signed with the hub key (manifest + payload) for devices updated by hand.
`;

/** Subcommands with options of their own, parsed by their modules. */
const SUBCOMMANDS: Record<string, (argv: string[], io: CliIo) => Promise<number>> = {
  quantize: runModelsQuantizeCommand,
  export: runModelsExportCommand,
  bundle: runModelsBundleCommand,
};

const OPTIONS = {
  ...CLIENT_OPTIONS, name: { type: 'string' }, arch: { type: 'string' }, seed: { type: 'string' }, version: { type: 'string' },
} as const;

/** The MCU fit table: flash and arena needed against what the profile has, fit, estimated latency. */
function printMcuFit(io: CliIo, version: number, fit: McuFitView): void {
  println(io.stdout, `\nmicrocontroller fit of version ${version} (estimates; see proto/docs/mcu-resource-model.md)`);
  if (fit.unsupported) return println(io.stdout, `  not estimated: ${fit.unsupported.code}: ${fit.unsupported.message}`);
  println(io.stdout, formatTable(
    ['ENCODING', 'PROFILE', 'FLASH', 'ARENA', 'FITS', 'EST. LATENCY'],
    fit.rows.map((row) => [row.encoding, row.profile,
      `${formatBytes(row.flashBytes)} / ${formatBytes(row.profileFlashBytes)}`,
      `${formatBytes(row.arenaBytes)} / ${formatBytes(row.profileRamBytes)}`,
      row.fits ? 'yes' : 'no', `${row.estLatencyMs.toFixed(2)} ms`]),
  ));
  for (const row of fit.rows) if (!row.fits) println(io.stdout, `  ${row.encoding} on ${row.profile}: ${row.shortfalls.join('; ')}`);
}

export async function runModelsCommand(argv: string[], io: CliIo): Promise<number> {
  const subcommand = argv[0] !== undefined && Object.hasOwn(SUBCOMMANDS, argv[0]) ? SUBCOMMANDS[argv[0]] : undefined;
  if (subcommand) return subcommand(argv.slice(1), io);
  const { values, positionals } = parse(argv, OPTIONS);
  const [action, ...rest] = positionals;
  if (values.help || !action) {
    io.stdout.write(MODELS_USAGE);
    return values.help ? 0 : 2;
  }
  const client = createHubClient(values, io);
  const id = () => {
    if (!rest[0]) throw usageError(`usage: fedfleet models ${action} <name|id>`);
    return encodeURIComponent(rest[0]);
  };
  const printVersions = (versions: VersionRecord[]) =>
    println(io.stdout, formatTable(
      ['VERSION', 'ID', 'SOURCE', 'PARENT', 'ROUND', 'ACCURACY', 'SIZE', 'SHA256', 'CREATED'],
      versions.map((v) => [v.version, v.id, v.source, v.parentVersionId ?? '-', v.roundId ?? '-',
        typeof v.metrics.accuracy === 'number' ? `${(100 * v.metrics.accuracy).toFixed(2)}%` : '-', formatBytes(v.sizeBytes),
        v.sha256.slice(0, 12), v.createdAt]),
    ));
  switch (action) {
    case 'ls':
    case 'list': {
      const models = await client.request<ModelRecord[]>('GET', '/v1/models');
      if (values.json) return printJson(io, models), 0;
      if (models.length === 0) return println(io.stdout, 'no models'), 0;
      println(io.stdout, formatTable(['NAME', 'ID', 'ARCHITECTURE', 'PARAMS', 'VERSIONS', 'CREATED'],
        models.map((m) => [m.name, m.id, m.architecture, m.paramCount, m.latestVersion, m.createdAt])));
      return 0;
    }
    case 'create': {
      if (!values.name || !values.arch) throw usageError('--name and --arch are required');
      const created = await client.request<{ model: ModelRecord; version: VersionRecord }>('POST', '/v1/models', {
        name: values.name, architecture: values.arch, ...(values.seed ? { seed: Number(values.seed) } : {}),
      });
      if (values.json) return printJson(io, created), 0;
      println(io.stdout, `model ${created.model.name} (${created.model.id}): ${created.model.paramCount} parameters, version 1 ${created.version.id}`);
      return 0;
    }
    case 'import': {
      if (!rest[0] || !values.name) throw usageError('usage: fedfleet models import <model.json> --name <name>');
      const path = resolve(io.cwd, rest[0]);
      const modelJson = JSON.parse(await readFile(path, 'utf8')) as { weightsManifest?: { paths: string[] }[] };
      const parts = [];
      for (const group of modelJson.weightsManifest ?? []) {
        for (const file of group.paths) parts.push(await readFile(resolve(dirname(path), file)));
      }
      const created = await client.request<{ model: ModelRecord; version: VersionRecord }>('POST', '/v1/models/import', {
        name: values.name, modelJson, weightsBase64: Buffer.concat(parts).toString('base64'),
      });
      if (values.json) return printJson(io, created), 0;
      println(io.stdout, `imported ${created.model.name} (${created.model.id}): ${created.model.paramCount} parameters`);
      return 0;
    }
    case 'show': {
      const model = await client.request<ModelRecord & { versions: VersionRecord[] }>('GET', `/v1/models/${id()}`);
      // One version's microcontroller fit (issue 9 item 4: per encoding and MCU profile) and quantizations (item 2).
      const versionPath = `/v1/models/${id()}/versions/${encodeURIComponent(values.version ?? 'latest')}`;
      const shown = model.latestVersionId || values.version ? {
        ...await client.request<{ version: number; mcuFit: McuFitView }>('GET', versionPath),
        quantizations: await client.request<QuantizationJson[]>('GET', `${versionPath}/quantizations`),
      } : undefined;
      if (values.json) return printJson(io, shown ? { ...model, mcuFit: shown.mcuFit, quantizations: shown.quantizations } : model), 0;
      println(io.stdout, `${model.name} (${model.id})  ${model.architecture}  ${model.paramCount} parameters  input [${model.inputShape.join(',')}]  ${model.numClasses} classes`);
      printVersions(model.versions);
      if (shown) {
        printMcuFit(io, shown.version, shown.mcuFit);
        printQuantizations(io, shown.version, shown.quantizations);
      }
      return 0;
    }
    case 'versions': {
      const versions = await client.request<VersionRecord[]>('GET', `/v1/models/${id()}/versions`);
      if (values.json) return printJson(io, versions), 0;
      printVersions(versions);
      return 0;
    }
    default:
      throw usageError(`unknown models command ${JSON.stringify(action)}\n${MODELS_USAGE}`);
  }
}
