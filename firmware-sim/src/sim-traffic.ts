import { silentLogger, type InferenceService, type Logger, type TelemetrySource } from '@fedfleet/agent';
import { mulberry32 } from '@fedfleet/proto';
import type { Dataset } from '@fedfleet/agent/training';
import { servedLabels, shiftInput, type Drift } from './drift.js';

export interface SimTrafficOptions {
  /** The device's one inference path: what it counts is what telemetry and shadow runs report. */
  service: Pick<InferenceService, 'predict' | 'feedback' | 'serving' | 'shadowIdle'>;
  /** The device's held-out local examples (its test split), or undefined without data. */
  examples: () => Dataset | undefined;
  /** Predictions per heartbeat. */
  perHeartbeat: number;
  /** The shift the device's traffic has now (drift.ts), read every heartbeat; none = its data as it is. */
  drift?: () => Drift | undefined;
  /** Seeded uniform [0, 1) numbers for the `noise` shift. Default a fixed-seed generator. */
  random?: () => number;
  log?: Logger;
}

/**
 * Inference traffic of a simulated device (issue 10 items 3 and 5: "on simulated devices, their local data"): the
 * device classifies its own held-out examples in turn through the inference service, as requests to its local
 * endpoint would, and labels each with its true class as POST /feedback would. Telemetry then shows inference
 * counts, latency and labelled accuracy, and a shadow run compares both versions on the same inputs.
 */
export class SimTraffic {
  private next = 0;
  private failed = false;
  private readonly log: Logger;
  private readonly random: () => number;
  private scratch = new Float32Array(0);
  /** The examples a `labels` drift serves, for the data and drift they were computed from. */
  private served: { data: Dataset; drift: Drift; order: number[] } | undefined;

  constructor(private readonly options: SimTrafficOptions) {
    this.log = options.log ?? silentLogger;
    this.random = options.random ?? mulberry32(1);
  }

  /** One heartbeat's predictions; resolves with how many were served (0 without a serving model or data). */
  async run(): Promise<number> {
    const { service, perHeartbeat } = this.options;
    const data = this.options.examples();
    if (!service.serving() || !data || data.count === 0) return 0;
    const size = data.x.length / data.count;
    const drift = this.options.drift?.();
    const order = this.servedOrder(data, drift);
    if (order?.length === 0) return 0; // the drift serves classes this device holds none of
    if (this.scratch.length !== size) this.scratch = new Float32Array(size);
    let served = 0;
    for (let i = 0; i < perHeartbeat; i++) {
      const at = order ? order[this.next++ % order.length]! : this.next++ % data.count;
      const example = data.x.subarray(at * size, (at + 1) * size);
      try {
        const answer = await service.predict(drift ? shiftInput(example, drift, this.scratch, this.random) : example);
        service.feedback(answer.requestId, data.y[at]!);
        served++;
      } catch (error) {
        // A model that cannot take this device's examples (another input shape) or was swapped out mid-run: stop
        // this heartbeat; log once per failing streak rather than every heartbeat.
        if (!this.failed) this.log.warn({ code: (error as { code?: string }).code, err: (error as Error).message }, 'simulated inference failed');
        this.failed = true;
        break;
      }
    }
    if (served === perHeartbeat) this.failed = false;
    // The challenger runs behind the answers: wait for it, so the shadow counts sent with this heartbeat are whole.
    await service.shadowIdle();
    return served;
  }

  private servedOrder(data: Dataset, drift: Drift | undefined): number[] | undefined {
    const labels = servedLabels(drift);
    if (!labels || !drift) return undefined;
    if (this.served?.data !== data || this.served.drift !== drift) {
      const order: number[] = [];
      for (let i = 0; i < data.count; i++) if (labels.has(data.y[i]!)) order.push(i);
      this.served = { data, drift, order };
    }
    return this.served.order;
  }
}

/** A telemetry source that serves one heartbeat of traffic before each sample, so the sample counts it. */
export function withTraffic(source: TelemetrySource, traffic: SimTraffic): TelemetrySource {
  return {
    async sample() {
      await traffic.run();
      return source.sample();
    },
  };
}
