/**
 * A strict parser of the Prometheus text exposition format 0.0.4 (prom-client has none): every line is `# HELP`,
 * `# TYPE`, empty, or a sample `name{label="value",…} value`; HELP and TYPE at most once per family and before its samples;
 * a sample belongs to a declared family (histograms: `_bucket` with `le`, `_sum`, `_count`); no series twice; label
 * values use only the format's escapes (\\, \", \n). Anything else throws with the line number.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: string;
  help: string;
  samples: Sample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = `[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"`;
const SAMPLE_LINE = new RegExp(`^(${NAME})(?:\\{((?:${LABEL})(?:,${LABEL})*)?,?\\})? (\\S+)$`);
const LABEL_PAIR = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"/g;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function parseValue(text: string, where: string): number {
  if (text === 'NaN') return NaN;
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (!/^-?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+)$/.test(text)) throw new Error(`${where}: bad value ${JSON.stringify(text)}`);
  return Number(text);
}

function familyOf(sampleName: string, families: Map<string, Family>): Family | undefined {
  const direct = families.get(sampleName);
  if (direct) return direct;
  const match = /^(.*)_(bucket|sum|count)$/.exec(sampleName);
  const family = match ? families.get(match[1]!) : undefined;
  return family && (family.type === 'histogram' || (family.type === 'summary' && match![2] !== 'bucket')) ? family : undefined;
}

export function parsePrometheusText(text: string): Map<string, Family> {
  if (!text.endsWith('\n')) throw new Error('exposition must end with a newline');
  const families = new Map<string, Family>();
  const helped = new Set<string>();
  const series = new Set<string>();
  text.slice(0, -1).split('\n').forEach((line, index) => {
    const where = `line ${index + 1}`;
    if (line === '') return; // the format ignores empty lines (prom-client puts one between families)
    if (line.startsWith('#')) {
      const meta = new RegExp(`^# (HELP|TYPE) (${NAME}) (.*)$`).exec(line);
      if (!meta) throw new Error(`${where}: bad comment ${JSON.stringify(line)}`);
      const [, kind, name, rest] = meta as unknown as [string, 'HELP' | 'TYPE', string, string];
      let family = families.get(name);
      if (kind === 'TYPE') {
        if (!TYPES.has(rest)) throw new Error(`${where}: unknown type ${rest}`);
        if (family?.type) throw new Error(`${where}: second TYPE for ${name}`);
        if (family?.samples.length) throw new Error(`${where}: TYPE after samples of ${name}`);
        if (family) family.type = rest;
        else families.set(name, { name, type: rest, help: '', samples: [] });
      } else {
        if (helped.has(name)) throw new Error(`${where}: second HELP for ${name}`);
        helped.add(name);
        if (!family) families.set(name, (family = { name, type: '', help: '', samples: [] }));
        family.help = rest;
      }
      return;
    }
    const match = SAMPLE_LINE.exec(line);
    if (!match) throw new Error(`${where}: not a sample line ${JSON.stringify(line)}`);
    const [, name, labelText, valueText] = match as unknown as [string, string, string | undefined, string];
    const labels: Record<string, string> = {};
    for (const [, key, raw] of (labelText ?? '').matchAll(LABEL_PAIR)) {
      if (key! in labels) throw new Error(`${where}: label ${key} twice`);
      labels[key!] = raw!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    const family = familyOf(name, families);
    if (!family?.type) throw new Error(`${where}: sample ${name} has no TYPE before it`);
    if (name.endsWith('_bucket') && family.type === 'histogram' && !('le' in labels)) throw new Error(`${where}: bucket without le`);
    const id = `${name}{${Object.keys(labels).sort().map((k) => `${k}=${labels[k]}`).join(',')}}`;
    if (series.has(id)) throw new Error(`${where}: series ${id} twice`);
    series.add(id);
    family.samples.push({ name, labels, value: parseValue(valueText, where) });
  });
  return families;
}

/** The value of one series (0 when the family has no sample with exactly these labels). */
export function sampleValue(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  for (const family of families.values()) {
    const sample = family.samples.find(
      (s) => s.name === name && Object.keys(s.labels).length === Object.keys(labels).length && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
    );
    if (sample) return sample.value;
  }
  return 0;
}
