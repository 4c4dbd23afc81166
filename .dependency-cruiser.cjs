// Package and layer boundaries of fedfleet, checked by dependency-cruiser in `npm test` (hub/test/boundaries.test.ts)
// and by `npm run check:boundaries`. A rule names what may NOT be imported; type-only imports count too.
//
// - proto is the shared wire contract: it imports nothing of ours.
// - the agent imports only proto; the simulated fleet imports proto and the agent's public entry points.
// - the hub reaches agent ML code (model evaluation, data formats) only through ONE adapter module,
//   hub/src/ml/agent-ml.ts, which the rest of the hub gets injected as an Evaluator; the CLI may start the agent and
//   the simulated fleet (hub/src/cli/commands/delegated-command.ts). Nothing else in the hub imports them.
// - transport (hub/src/broker) knows nothing of the domain: fleet, rounds and device commands register their
//   handlers on it, never the other way round.

/** Paths of an agent or firmware-sim module: resolved into the workspace, or a bare specifier left unresolved. */
const AGENT_OR_SIM = '^(agent|firmware-sim)/|(^|/)@fedfleet/(agent|firmware-sim)($|/)';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'hub-imports-agent-only-through-adapter',
      comment: 'The hub reaches agent ML code only through hub/src/ml/agent-ml.ts; only the CLI may start the agent or the simulated fleet.',
      severity: 'error',
      from: { path: '^hub/src/', pathNot: '^hub/src/(ml/agent-ml\\.ts|cli/commands/delegated-command\\.ts)$' },
      to: { path: AGENT_OR_SIM },
    },
    {
      name: 'broker-knows-no-domain',
      comment: 'Transport (hub/src/broker) does not import fleet, rounds, rollouts or command logic; they register handlers on it.',
      severity: 'error',
      from: { path: '^hub/src/broker/' },
      to: { path: '^hub/src/(fleet|rounds|rollouts|commands)/' },
    },
    {
      name: 'proto-imports-nothing-of-ours',
      comment: 'proto is the shared contract of hub, agent and simulator.',
      severity: 'error',
      from: { path: '^proto/' },
      to: { path: '^(hub|agent|firmware-sim|test)/|(^|/)@fedfleet/(hub|agent|firmware-sim)($|/)' },
    },
    {
      name: 'agent-imports-only-proto',
      comment: 'The agent runs on a device: it depends on proto, never on the hub, the simulator or tests.',
      severity: 'error',
      from: { path: '^agent/' },
      to: { path: '^(hub|firmware-sim|test)/|(^|/)@fedfleet/(hub|firmware-sim)($|/)' },
    },
    {
      name: 'sim-imports-proto-and-agent-entry-points',
      comment: "The simulated fleet imports proto and the agent's public entry points (its package exports), never the hub or agent internals.",
      severity: 'error',
      from: { path: '^firmware-sim/' },
      to: {
        path: '^(hub|test)/|^agent/|(^|/)@fedfleet/hub($|/)',
        pathNot: '^agent/src/(index|training-commands)\\.ts$',
      },
    },
    {
      name: 'no-unresolvable-import',
      comment: 'An import the resolver cannot follow could hide any of the above.',
      severity: 'error',
      from: { path: '^(hub|agent|firmware-sim|proto)/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports are dependencies too: a type import from agent code ties the hub to agent internals.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
      extensions: ['.ts', '.mjs', '.js', '.cjs', '.json', '.d.ts'],
    },
  },
};
