import { AgentError } from '../errors.js';

/**
 * Parses the convenience CSV form of a split: one example per line, `label,f1,f2,…,fn`, n = prod(inputShape).
 * Blank lines and lines starting with `#` are skipped; a first line whose first field is not a number is a header.
 */
export function parseLabelledCsv(
  text: string,
  featureCount: number,
  numClasses: number,
  where: string,
): { x: Float32Array; y: Uint8Array; count: number } {
  const lines = text.split(/\r?\n/);
  const rows: number[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    rows.push(i);
  }
  if (rows.length > 0) {
    const first = lines[rows[0]!]!.split(',')[0]!.trim();
    if (first === '' || Number.isNaN(Number(first))) rows.shift();
  }
  const x = new Float32Array(rows.length * featureCount);
  const y = new Uint8Array(rows.length);
  for (let r = 0; r < rows.length; r++) {
    const lineNo = rows[r]! + 1;
    const fields = lines[rows[r]!]!.split(',');
    if (fields.length !== featureCount + 1) {
      throw new AgentError('AGENT_ERR_DATA_FORMAT', `${where}:${lineNo}: ${fields.length} fields, expected 1 label + ${featureCount} features`);
    }
    const label = Number(fields[0]);
    if (!Number.isInteger(label) || label < 0 || label >= numClasses) {
      throw new AgentError('AGENT_ERR_DATA_FORMAT', `${where}:${lineNo}: label ${JSON.stringify(fields[0])} is not an integer in [0, ${numClasses})`);
    }
    y[r] = label;
    for (let f = 0; f < featureCount; f++) {
      const field = fields[f + 1]!;
      const value = Number(field);
      if (field.trim() === '' || !Number.isFinite(value)) {
        throw new AgentError('AGENT_ERR_DATA_FORMAT', `${where}:${lineNo}: feature ${f + 1} ${JSON.stringify(field)} is not a finite number`);
      }
      x[r * featureCount + f] = value;
    }
  }
  return { x, y, count: rows.length };
}
