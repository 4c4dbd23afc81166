/**
 * Package boundaries (.dependency-cruiser.cjs): the real tree has no violation, and the same rules report each kind
 * of violation in a fixture tree — so the check is known to fail when someone crosses a boundary. A second check
 * covers what no import graph shows: a module loaded by a computed name (`import(variable)`, `require`).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it, onTestFinished } from 'vitest';

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DEPCRUISE = join(REPO_ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
const CONFIG = join(REPO_ROOT, '.dependency-cruiser.cjs');

/** The arguments of `npm run check:boundaries` after `depcruise`: the test checks exactly what the script checks. */
function scriptArgs(): string[] {
  const scripts = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  const [command, ...args] = scripts['check:boundaries']!.split(/\s+/);
  expect(command).toBe('depcruise');
  return args.map((arg) => (arg === '.dependency-cruiser.cjs' ? CONFIG : arg));
}

/** The roots the script cruises (every argument that is not an option or the config). */
function roots(): string[] {
  return scriptArgs().filter((arg, i, all) => !arg.startsWith('-') && all[i - 1] !== '--config');
}

interface Violation {
  rule: string;
  from: string;
  to: string;
}

/** Runs dependency-cruiser with the repository's rules in `cwd`; its violations, sorted. */
function cruise(cwd: string): Promise<Violation[]> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [DEPCRUISE, ...scriptArgs(), '--output-type', 'json'], { cwd, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      // It exits non-zero when it finds violations; anything but a JSON report is a failure of the check itself.
      try {
        const report = JSON.parse(stdout) as { summary: { violations: { rule: { name: string }; from: string; to: string }[] } };
        resolve(report.summary.violations.map((v) => ({ rule: v.rule.name, from: v.from, to: v.to }))
          .sort((a, b) => `${a.from} ${a.to}`.localeCompare(`${b.from} ${b.to}`)));
      } catch {
        reject(new Error(`dependency-cruiser failed (${error?.message ?? 'no report'}):\n${stderr}`));
      }
    });
  });
}

/** Hub modules that may load a module by a name computed at run time (the CLI's `agent` and `sim` commands). */
const COMPUTED_LOADS_ALLOWED = new Set(['hub/src/cli/commands/delegated-command.ts']);

/**
 * Module loads that no import graph shows: `import()` of anything but a string literal, and `require` /
 * `createRequire` calls. Returns `file:line` of each, outside {@link COMPUTED_LOADS_ALLOWED}.
 */
function computedLoads(root: string, dir: string): string[] {
  const found: string[] = [];
  const visit = (file: string, source: ts.SourceFile, node: ts.Node): void => {
    if (ts.isCallExpression(node)) {
      const callee = node.expression;
      const dynamicImport = callee.kind === ts.SyntaxKind.ImportKeyword && !(node.arguments[0] && ts.isStringLiteralLike(node.arguments[0]));
      const requireCall = ts.isIdentifier(callee) && (callee.text === 'require' || callee.text === 'createRequire');
      if (dynamicImport || requireCall) found.push(`${file}:${source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1}`);
    }
    ts.forEachChild(node, (child) => visit(file, source, child));
  };
  for (const name of readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })) {
    const path = join(root, dir, name);
    if (!/\.(ts|mts|mjs|js)$/.test(name) || !statSync(path).isFile()) continue;
    const file = relative(root, path);
    if (COMPUTED_LOADS_ALLOWED.has(file)) continue;
    const source = ts.createSourceFile(file, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
    visit(file, source, source);
  }
  return found.sort();
}

/** A tree shaped like the repository, with one module crossing each boundary (and the allowed exceptions). */
function fixtureTree(): string {
  const root = mkdtempSync(join(tmpdir(), 'fedfleet-boundaries-'));
  onTestFinished(() => rmSync(root, { recursive: true, force: true }));
  const files: Record<string, string> = {
    'package.json': '{ "type": "module", "private": true }',
    'tsconfig.json': JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true } }),
    'proto/src/index.ts': "export const topic = 'ff/v1';\n",
    'proto/generated/fleet.js': 'export const Envelope = {};\n',
    'agent/package.json': JSON.stringify({ name: '@fedfleet/agent', type: 'module', exports: { '.': './src/index.ts', './ml': './src/ml/index.ts' } }),
    'agent/src/index.ts': "export type { Dataset } from './ml/index.js';\n",
    'agent/src/ml/index.ts': "import { topic } from '../../../proto/src/index.js';\nexport interface Dataset { count: number }\nexport const evaluate = () => topic;\n",
    'agent/src/leak.ts': "import { liveness } from '../../hub/src/fleet/liveness.js';\nexport const x = liveness;\n",
    'firmware-sim/package.json': JSON.stringify({ name: '@fedfleet/firmware-sim', type: 'module', exports: { '.': './src/index.ts' } }),
    'firmware-sim/src/index.ts': "import type { Dataset } from '@fedfleet/agent';\nexport const sim = (d: Dataset) => d.count;\n",
    'firmware-sim/src/deep.ts': "import { evaluate } from '../../agent/src/ml/index.js';\nexport const y = evaluate;\n",
    // Allowed: the adapter, and the CLI starting the agent and the simulator.
    'hub/src/ml/agent-ml.ts': "import { evaluate } from '@fedfleet/agent/ml';\nexport const run = evaluate;\n",
    'hub/src/cli/commands/delegated-command.ts': "export const start = () => import('@fedfleet/firmware-sim');\n",
    'hub/src/cli/main.ts': "export const load = () => import('./commands/delegated-command.js');\n",
    // Violations: a type-only import, a dynamic import, a relative path into another package, transport → domain.
    'hub/src/rounds/coordinator.ts': "import type { Dataset } from '@fedfleet/agent';\nexport type D = Dataset;\n",
    'hub/src/datasets/loader.ts': "export const load = () => import('@fedfleet/agent/ml');\n",
    'hub/src/models/builder.ts': "import { sim } from '../../../firmware-sim/src/index.js';\nexport const z = sim;\n",
    'hub/src/broker/handlers/status.ts': "import { liveness } from '../../fleet/liveness.js';\nexport const handle = liveness;\n",
    'hub/src/fleet/liveness.ts': "export const liveness = 1;\n",
    'hub/src/missing.ts': "import { gone } from './no-such-module.js';\nexport const g = gone;\n",
    // Invisible to the import graph, seen by the second check.
    'hub/src/hidden.ts': "const name: string = '@fedfleet/agent/ml';\nexport const load = () => import(name);\n",
  };
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  mkdirSync(join(root, 'node_modules', '@fedfleet'), { recursive: true });
  symlinkSync(join(root, 'agent'), join(root, 'node_modules', '@fedfleet', 'agent'), 'dir');
  symlinkSync(join(root, 'firmware-sim'), join(root, 'node_modules', '@fedfleet', 'firmware-sim'), 'dir');
  return root;
}

describe('package boundaries', () => {
  it('hold in this repository', async () => {
    expect(roots()).toEqual(['proto/src', 'proto/generated', 'agent/src', 'firmware-sim/src', 'hub/src']);
    expect(await cruise(REPO_ROOT)).toEqual([]);
    expect(computedLoads(REPO_ROOT, 'hub/src')).toEqual([]);
  }, 60_000);

  it('are reported when crossed', async () => {
    const root = fixtureTree();
    expect(await cruise(root)).toEqual([
      { rule: 'agent-imports-only-proto', from: 'agent/src/leak.ts', to: 'hub/src/fleet/liveness.ts' },
      { rule: 'sim-imports-proto-and-agent-entry-points', from: 'firmware-sim/src/deep.ts', to: 'agent/src/ml/index.ts' },
      { rule: 'broker-knows-no-domain', from: 'hub/src/broker/handlers/status.ts', to: 'hub/src/fleet/liveness.ts' },
      { rule: 'hub-imports-agent-only-through-adapter', from: 'hub/src/datasets/loader.ts', to: 'agent/src/ml/index.ts' },
      { rule: 'no-unresolvable-import', from: 'hub/src/missing.ts', to: './no-such-module.js' },
      { rule: 'hub-imports-agent-only-through-adapter', from: 'hub/src/models/builder.ts', to: 'firmware-sim/src/index.ts' },
      { rule: 'hub-imports-agent-only-through-adapter', from: 'hub/src/rounds/coordinator.ts', to: 'agent/src/index.ts' },
    ]);
    expect(computedLoads(root, 'hub/src')).toEqual(['hub/src/hidden.ts:2']);
  }, 60_000);
});
