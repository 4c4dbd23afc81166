const ENTRY = /^(\d+)(?:-(\d+))?=(.+)$/;

/**
 * `fedfleet sim --data-for <from>-<to>=<spec>` (or `<index>=<spec>`), repeatable: devices `from` to `to` (inclusive,
 * fleet indices) hold `spec` instead of `--data`, e.g. `--data-for 40-49=mnist:labels:7,8,9` for devices whose local
 * data a new version classifies badly. A later entry wins where ranges overlap.
 * @returns SimFleetOptions.dataFor.
 * @throws RangeError naming the entry that is not of that form.
 */
export function parseDataFor(entries: readonly string[]): (index: number) => string | undefined {
  const ranges = entries.map((entry) => {
    const match = ENTRY.exec(entry);
    const from = Number(match?.[1]);
    const to = match?.[2] === undefined ? from : Number(match[2]);
    if (!match || to < from) throw new RangeError(`--data-for ${JSON.stringify(entry)} is not <from>-<to>=<spec> or <index>=<spec>`);
    return { from, to, spec: match[3]! };
  });
  return (index) => ranges.findLast((r) => index >= r.from && index <= r.to)?.spec;
}
