/**
 * Which devices a round may select now (DESIGN §4), and whether a campaign could ever fill its rounds. A device
 * could ever take part when it matches the campaign's selector, is enrolled and not revoked, can train, and the model
 * fits its RAM; it is eligible now when, besides, fleet liveness says it is online, it is not busy (a round or a
 * quantization job holds it: fleet/device-holds.ts), and its latest telemetry is within the campaign's constraints.
 * A round waits for devices that are merely offline, busy or too hot; it fails at once when not enough could ever
 * take part (HUB_ERR_ROUND_IMPOSSIBLE).
 */
import { trainingMemoryBytes } from '@fedfleet/proto';
import { HubError } from '../errors.js';
import type { DeviceRecord, DeviceRepo } from '../fleet/device-repo.js';
import { parseSelector } from '../fleet/label-selector.js';
import type { DevicePresence } from '../fleet/liveness.js';
import type { TelemetryIngest } from '../fleet/telemetry-ingest.js';
import type { CampaignConfig } from './campaign-config.js';

export interface DeviceSelectionDeps {
  devices: DeviceRepo;
  /** Fleet liveness: the hub's own view of who is online. */
  presence: DevicePresence;
  telemetry: Pick<TelemetryIngest, 'latest'>;
  /** Devices busy now: held by a round that is selecting or training, or by another capability (DeviceHolds). */
  busyDevices: () => ReadonlySet<string>;
}

export interface CapacityQuery {
  selector: string;
  /** Parameters of the model to train (its training memory must fit a device's RAM). */
  paramCount: number;
  /** Devices a round needs: its minClients. */
  needed: number;
  /**
   * Whether a selector no enrolled device matches counts as impossible. Not when a campaign starts: its devices may
   * enroll after it (a round waits for them); yes for its later rounds, which had a fleet and lost it.
   */
  judgeEmptyFleet: boolean;
}

export interface DeviceSelection {
  /** Devices that may train the campaign's model now. */
  eligible(config: Pick<CampaignConfig, 'selector' | 'constraints'>, paramCount: number): DeviceRecord[];
  /** HUB_ERR_ROUND_IMPOSSIBLE when too few devices could ever take part; undefined when enough could. */
  impossibility(query: CapacityQuery): HubError | undefined;
}

/** Whether a device can ever train a model of `paramCount` parameters (0 RAM = not reported: assumed to fit). */
function canEverTrain(device: DeviceRecord, paramCount: number): boolean {
  if (!device.profile.canTrain) return false;
  return device.profile.ramBytes <= 0 || trainingMemoryBytes(paramCount) <= device.profile.ramBytes;
}

type Readings = { temperatureC?: number; batteryPercent?: number; charging?: boolean };

function withinConstraints(readings: Readings | undefined, constraints: CampaignConfig['constraints']): boolean {
  if (constraints.maxTemperatureC !== undefined && (readings?.temperatureC ?? -Infinity) > constraints.maxTemperatureC) return false;
  // A device without a battery reading passes the battery checks: it is not running on a battery.
  if (constraints.minBatteryPercent !== undefined && readings?.batteryPercent !== undefined && readings.batteryPercent < constraints.minBatteryPercent) {
    return false;
  }
  return !(constraints.requireCharging && readings?.batteryPercent !== undefined && !readings.charging);
}

export function createDeviceSelection(deps: DeviceSelectionDeps): DeviceSelection {
  const { devices, presence, telemetry } = deps;
  const matching = (selector: string) => devices.list({ selector: parseSelector(selector) }).devices;

  return {
    eligible(config, paramCount) {
      const busy = deps.busyDevices();
      const { constraints } = config;
      const constrained = constraints.maxTemperatureC !== undefined || constraints.minBatteryPercent !== undefined || constraints.requireCharging;
      return matching(config.selector).filter((device) => {
        if (!presence.isOnline(device.id) || busy.has(device.id) || !canEverTrain(device, paramCount)) return false;
        return !constrained || withinConstraints(telemetry.latest(device.id)?.telemetry as Readings | undefined, constraints);
      });
    },
    impossibility({ selector, paramCount, needed, judgeEmptyFleet }) {
      const all = matching(selector);
      if (all.length === 0 && !judgeEmptyFleet) return undefined;
      const capable = all.filter((device) => canEverTrain(device, paramCount)).length;
      if (capable >= needed) return undefined;
      const which = selector.trim() === '' ? 'enrolled devices' : `enrolled devices matching selector ${JSON.stringify(selector)}`;
      return new HubError('HUB_ERR_ROUND_IMPOSSIBLE', {
        message: `${capable} of the ${all.length} ${which} could ever take part (canTrain, the model fits their RAM); ${needed} needed per round`,
        details: { matching: all.length, capable, needed },
      });
    },
  };
}
