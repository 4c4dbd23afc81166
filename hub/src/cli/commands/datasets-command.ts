/** `fedfleet datasets upload|ls|show`: validation sets for hub-side evaluation of every committed version. */
import { encodeFloat32Le } from '@fedfleet/proto';
import type { DatasetRecord } from '../../datasets/dataset-registry.js';
import { CLIENT_OPTIONS, parse } from '../args.js';
import { usageError } from '../cli-error.js';
import { createHubClient } from '../hub-client.js';
import { printJson, println, type CliIo } from '../io.js';
import { formatTable } from '../table.js';

export const DATASETS_USAGE = `Usage:
  fedfleet datasets upload <folder|mnist:test> --name <name> [--split test|train] [--description …] [--json]
  fedfleet datasets ls [--json]
  fedfleet datasets show <name|id> [--json]

upload sends one split of a data set folder in the agent's format (agent/docs/data-format.md; default the test
split, i.e. held-out examples) or mnist:test (the 2,000 test digits of the built-in MNIST split) to the hub. Name it in
a campaign (fedfleet rounds start --validation-set <name>) and the hub evaluates every new version on it.
`;

const OPTIONS = { ...CLIENT_OPTIONS, name: { type: 'string' }, split: { type: 'string' }, description: { type: 'string' } } as const;

/** The `POST /v1/datasets` fields of a data set folder's split, or of the built-in MNIST digits. */
async function uploadFields(source: string, split: 'train' | 'test', cwd: string) {
  // Read with the agent's data code, through the hub's one adapter to it; TensorFlow.js loads only for this command.
  const { readLabelledExamples } = await import('../../ml/agent-ml.js');
  const examples = await readLabelledExamples(source, split, cwd);
  return {
    inputShape: examples.inputShape, numClasses: examples.numClasses,
    xBase64: Buffer.from(encodeFloat32Le(examples.x)).toString('base64'), yBase64: Buffer.from(examples.y).toString('base64'),
  };
}

export async function runDatasetsCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(argv, OPTIONS);
  const [action, ...rest] = positionals;
  if (values.help || !action) {
    io.stdout.write(DATASETS_USAGE);
    return values.help ? 0 : 2;
  }
  const client = createHubClient(values, io);
  switch (action) {
    case 'upload': {
      if (!rest[0] || !values.name) throw usageError('usage: fedfleet datasets upload <folder|mnist:test> --name <name>');
      const split = values.split ?? 'test';
      if (split !== 'test' && split !== 'train') throw usageError(`--split must be test or train, got ${JSON.stringify(split)}`);
      const created = await client.request<DatasetRecord>('POST', '/v1/datasets', {
        name: values.name, ...await uploadFields(rest[0], split, io.cwd), ...(values.description ? { description: values.description } : {}),
      });
      if (values.json) return printJson(io, created), 0;
      println(io.stdout, `data set ${created.name} (${created.id}): ${created.examples} examples of ${JSON.stringify(created.inputShape)}, ${created.numClasses} classes`);
      return 0;
    }
    case 'ls':
    case 'list': {
      const datasets = await client.request<DatasetRecord[]>('GET', '/v1/datasets');
      if (values.json) return printJson(io, datasets), 0;
      if (datasets.length === 0) return println(io.stdout, 'no data sets'), 0;
      println(io.stdout, formatTable(['NAME', 'ID', 'EXAMPLES', 'INPUT', 'CLASSES', 'CREATED'],
        datasets.map((d) => [d.name, d.id, d.examples, JSON.stringify(d.inputShape), d.numClasses, d.createdAt])));
      return 0;
    }
    case 'show': {
      if (!rest[0]) throw usageError('usage: fedfleet datasets show <name|id>');
      const dataset = await client.request<DatasetRecord>('GET', `/v1/datasets/${encodeURIComponent(rest[0])}`);
      if (values.json) return printJson(io, dataset), 0;
      println(io.stdout, formatTable(['FIELD', 'VALUE'], Object.entries(dataset).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)])));
      return 0;
    }
    default:
      throw usageError(`unknown datasets command ${JSON.stringify(action)}\n${DATASETS_USAGE}`);
  }
}
