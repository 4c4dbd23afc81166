import { describe, expect, it } from 'vitest';
import { selectParticipants, type Candidate } from '../../src/rounds/selection.js';

const fleet = (n: number): Candidate[] => Array.from({ length: n }, (_, i) => ({ id: `dev-${(i * 7919) % 1000}-${i}`, name: `pi-${String(i).padStart(3, '0')}` }));

/** A deterministic shuffle (not the one under test). */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('selectParticipants', () => {
  it('selects ⌈K × overSelect⌉ distinct eligible devices and waits for K', () => {
    const candidates = fleet(50);
    for (const [clients, overSelect, size] of [[10, 1.3, 13], [10, 1, 10], [3, 1.34, 5], [7, 1.5, 11], [1, 3, 3], [4, 1.25, 5]] as const) {
      const plan = selectParticipants(candidates, { clients, overSelect, seed: 1, roundNumber: 1 });
      expect(plan.selected).toHaveLength(size);
      expect(new Set(plan.selected).size).toBe(size);
      expect(plan.target).toBe(clients);
      for (const id of plan.selected) expect(candidates.some((c) => c.id === id)).toBe(true);
    }
  });

  it('caps the selection at the eligible devices, and the target at what was selected', () => {
    const candidates = fleet(6);
    const plan = selectParticipants(candidates, { clients: 5, overSelect: 1.3, seed: 1, roundNumber: 1 });
    expect([...plan.selected].sort()).toEqual(candidates.map((c) => c.id).sort());
    expect(plan.target).toBe(5);
    const few = selectParticipants(fleet(3), { clients: 5, overSelect: 1.3, seed: 1, roundNumber: 1 });
    expect(few.selected).toHaveLength(3);
    expect(few.target).toBe(3);
    expect(selectParticipants([], { clients: 5, overSelect: 1.3, seed: 1, roundNumber: 1 })).toEqual({ selected: [], target: 0 });
  });

  it('is deterministic by seed and round number, whatever order the candidates come in', () => {
    const candidates = fleet(40);
    const opts = { clients: 8, overSelect: 1.3, seed: 42, roundNumber: 3 };
    const reference = selectParticipants(candidates, opts);
    for (let s = 1; s <= 5; s++) expect(selectParticipants(shuffled(candidates, s), opts)).toEqual(reference);
    expect(selectParticipants([...candidates].reverse(), opts)).toEqual(reference);
    // Names need not be unique (ids are): ties are broken by id.
    const twins = candidates.map((c, i) => ({ ...c, name: `pi-${i % 4}` }));
    const twinReference = selectParticipants(twins, opts);
    for (let s = 1; s <= 5; s++) expect(selectParticipants(shuffled(twins, s), opts)).toEqual(twinReference);

    // Another round or another seed draws another sample.
    const rounds = new Set(Array.from({ length: 6 }, (_, r) => selectParticipants(candidates, { ...opts, roundNumber: r + 1 }).selected.join()));
    expect(rounds.size).toBe(6);
    const seeds = new Set(Array.from({ length: 6 }, (_, s) => selectParticipants(candidates, { ...opts, seed: s }).selected.join()));
    expect(seeds.size).toBe(6);
  });

  it('draws every device about equally often over many rounds (uniform sample)', () => {
    const candidates = fleet(20);
    const counts = new Map(candidates.map((c) => [c.id, 0]));
    const rounds = 2000;
    for (let r = 1; r <= rounds; r++) {
      for (const id of selectParticipants(candidates, { clients: 5, overSelect: 1, seed: 7, roundNumber: r }).selected) counts.set(id, counts.get(id)! + 1);
    }
    // Each device is in a round with probability 5/20: 500 expected, σ ≈ 19.4.
    for (const count of counts.values()) expect(Math.abs(count - 500)).toBeLessThan(100);
  });
});
