import { mixSeed, mulberry32 } from '@fedfleet/proto';

export interface Candidate {
  id: string;
  name: string;
}

export interface SelectionPlan {
  /** Devices asked to train, in the order they were drawn. */
  selected: string[];
  /** How many valid updates the round waits for (the target K). */
  target: number;
}

/**
 * Picks the participants of one round: a seeded uniform sample without replacement of ⌈K × overSelect⌉ eligible
 * devices (Bonawitz et al. 2019 select ~130 % of the target because 6–10 % drop out). Candidates are ordered by
 * name before drawing so the same fleet, seed and round always give the same sample — which lets the benchmark's
 * in-process reference train exactly the clients the system trains.
 */
export function selectParticipants(
  candidates: readonly Candidate[],
  opts: { clients: number; overSelect: number; seed: number; roundNumber: number },
): SelectionPlan {
  const ordered = [...candidates].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.id < b.id ? -1 : 1));
  const want = Math.min(ordered.length, Math.ceil(opts.clients * opts.overSelect - 1e-9));
  const random = mulberry32(mixSeed(opts.seed, opts.roundNumber));
  // Partial Fisher–Yates: the first `want` positions are a uniform sample.
  const ids = ordered.map((c) => c.id);
  for (let i = 0; i < want; i++) {
    const j = i + Math.floor(random() * (ids.length - i));
    [ids[i], ids[j]] = [ids[j]!, ids[i]!];
  }
  return { selected: ids.slice(0, want), target: Math.min(opts.clients, want) };
}
