/**
 * Device credentials and ACLs in Mosquitto's dynamic-security plugin (DESIGN sections 8 and 9). Each device is a
 * dynsec client (username and client id = device id) with a role of its own that allows exactly its topics: publish
 * on its `status`, `telemetry`, `reply`, `update`, `fetch`; subscribe to and receive its `cmd` and `chunk`. Everything
 * else is denied by the default ACL access, which the hub sets. No role grants devices a wildcard: a role named
 * `fedfleet-device` (a shared wildcard grant) is deleted.
 *
 * The hub's SQLite is the source of truth; {@link DynsecProvisioner.sync} makes the broker agree with it at every
 * connect: devices revoked while the broker was out of reach are deleted there, devices enrolled meanwhile (their
 * passwords wait in memory) are created. The hub keeps only scrypt hashes, so a device that the broker lost (a fresh
 * dynsec file) cannot be re-created: it is reported, and needs re-enrollment.
 */
import { DEVICE_PUBLISH_KINDS, DEVICE_SUBSCRIBE_KINDS, allDevicesFilter, deviceTopic, isValidDeviceId, type DeviceTopicKind } from '@fedfleet/proto';
import type { HubLogger } from '../../logger.js';
import { isDynsecError, type DynsecClient } from './dynsec-client.js';

/** Role name prefix of per-device roles; only clients holding such a role are ever deleted by the hub. */
export const DEVICE_ROLE_PREFIX = 'fedfleet-dev-';
/** The hub's own grants (publish commands and chunks, clear retained statuses, consume device traffic). */
export const HUB_ROLE = 'fedfleet-hub';
/** A shared wildcard role the hub refuses to leave in place. */
export const WILDCARD_DEVICE_ROLE = 'fedfleet-device';
/** Shared-subscription group of every hub of one fleet ([MQTT-4.8.2]). */
export const SHARE_GROUP = 'fedfleet';

export interface DynsecAcl {
  acltype: 'publishClientSend' | 'publishClientReceive' | 'subscribeLiteral' | 'subscribePattern' | 'unsubscribeLiteral';
  topic: string;
  allow: boolean;
  priority?: number;
}

export const deviceRoleName = (deviceId: string): string => `${DEVICE_ROLE_PREFIX}${deviceId}`;

/** A device's grants: literal topics only (a device id never contains `+`, `#` or `/`). */
export function deviceAcls(deviceId: string): DynsecAcl[] {
  const publish = DEVICE_PUBLISH_KINDS.map((kind): DynsecAcl => ({ acltype: 'publishClientSend', topic: deviceTopic(deviceId, kind), allow: true }));
  const subscribe = DEVICE_SUBSCRIBE_KINDS.flatMap((kind): DynsecAcl[] => [
    { acltype: 'subscribeLiteral', topic: deviceTopic(deviceId, kind), allow: true },
    { acltype: 'publishClientReceive', topic: deviceTopic(deviceId, kind), allow: true },
  ]);
  return [...publish, ...subscribe];
}

const HUB_SENDS: readonly DeviceTopicKind[] = ['cmd', 'chunk', 'status'];

export function hubAcls(): DynsecAcl[] {
  return [
    ...HUB_SENDS.map((kind): DynsecAcl => ({ acltype: 'publishClientSend', topic: allDevicesFilter(kind), allow: true })),
    { acltype: 'publishClientReceive', topic: 'ff/v1/dev/+/+', allow: true },
    { acltype: 'subscribePattern', topic: 'ff/v1/dev/+/+', allow: true },
    { acltype: 'subscribePattern', topic: `$share/${SHARE_GROUP}/ff/v1/dev/+/+`, allow: true },
  ];
}

/** Default access for clients no ACL matches: deny all but unsubscribing. */
export const DEFAULT_ACL_ACCESS = [
  { acltype: 'publishClientSend', allow: false },
  { acltype: 'publishClientReceive', allow: false },
  { acltype: 'subscribe', allow: false },
  { acltype: 'unsubscribe', allow: true },
] as const;

export interface SyncReport {
  provisioned: number;
  deleted: number;
  /** Devices the hub knows but the broker does not, whose password is gone: they must enroll again. */
  missing: string[];
}

export interface DynsecProvisioner {
  /** Defaults, the hub's role, then the devices (see the file comment). Safe to repeat; rejects if a command fails. */
  sync(): Promise<SyncReport>;
  /** Creates a device; on failure keeps the password for the next sync and rethrows. */
  provision(deviceId: string, password: string): Promise<void>;
  /** Keeps a device's password for the next sync (the broker is out of reach now). */
  defer(deviceId: string, password: string): void;
  /**
   * Deletes a device's client (Mosquitto disconnects it) and role, then clears its retained status; on failure the
   * next sync does it.
   */
  revoke(deviceId: string): Promise<void>;
  /** Devices whose password waits for the broker. */
  pendingCount(): number;
}

export interface DynsecProvisionerOptions {
  dynsec: Pick<DynsecClient, 'send'>;
  /** The hub's own dynsec username (it receives the hub role). */
  hubUsername: string;
  /** Ids of enrolled, unrevoked devices (the store). */
  activeDeviceIds(): ReadonlySet<string>;
  /** Publishes the empty retained message that deletes a device's retained status [MQTT-3.3.1-10]. */
  clearRetainedStatus(deviceId: string): Promise<void>;
  log: HubLogger;
}

interface ListedClient {
  username: string;
  roles?: Array<{ rolename: string }>;
}

export function createDynsecProvisioner(options: DynsecProvisionerOptions): DynsecProvisioner {
  const { dynsec, log } = options;
  const pending = new Map<string, string>();

  /** Runs a command whose refusal with `tolerated` means the state is already as wanted. */
  async function idempotent(command: Parameters<DynsecClient['send']>[0], tolerated: RegExp): Promise<void> {
    try {
      await dynsec.send(command);
    } catch (error) {
      if (!isDynsecError(error, tolerated)) throw error;
    }
  }

  async function create(deviceId: string, password: string): Promise<void> {
    await idempotent({ command: 'createRole', rolename: deviceRoleName(deviceId), acls: deviceAcls(deviceId) }, /already exists/i);
    try {
      await dynsec.send({ command: 'createClient', username: deviceId, clientid: deviceId, password, roles: [{ rolename: deviceRoleName(deviceId) }] });
    } catch (error) {
      if (!isDynsecError(error, /already exists/i)) throw error;
      // A retry after a lost answer: the client exists, its password and role must be ours.
      await dynsec.send({ command: 'setClientPassword', username: deviceId, password });
      await idempotent({ command: 'addClientRole', username: deviceId, rolename: deviceRoleName(deviceId) }, /already|in use/i);
    }
  }

  async function remove(deviceId: string): Promise<void> {
    await idempotent({ command: 'deleteClient', username: deviceId }, /not found/i);
    await idempotent({ command: 'deleteRole', rolename: deviceRoleName(deviceId) }, /not found/i);
    await options.clearRetainedStatus(deviceId);
  }

  async function ensureDefaults(): Promise<void> {
    await dynsec.send({ command: 'setDefaultACLAccess', acls: DEFAULT_ACL_ACCESS });
    await idempotent({ command: 'deleteRole', rolename: WILDCARD_DEVICE_ROLE }, /not found/i);
    await idempotent({ command: 'createRole', rolename: HUB_ROLE, acls: hubAcls() }, /already exists/i);
    const { client } = (await dynsec.send({ command: 'getClient', username: options.hubUsername })) as { client: ListedClient };
    if (!client.roles?.some((role) => role.rolename === HUB_ROLE)) {
      // Mosquitto disconnects a client whose roles change: the hub reconnects and the next sync finds the role.
      log.info({ role: HUB_ROLE }, 'granting the hub its role on the broker (the broker reconnects the hub)');
      await dynsec.send({ command: 'addClientRole', username: options.hubUsername, rolename: HUB_ROLE });
    }
  }

  return {
    async sync() {
      await ensureDefaults();
      const listed = (await dynsec.send({ command: 'listClients', verbose: true, count: -1, offset: 0 })) as { clients?: ListedClient[] };
      const ours = new Set(
        (listed.clients ?? [])
          .filter((c) => isValidDeviceId(c.username) && c.roles?.some((role) => role.rolename === deviceRoleName(c.username)))
          .map((c) => c.username),
      );
      const active = options.activeDeviceIds();
      const report: SyncReport = { provisioned: 0, deleted: 0, missing: [] };
      for (const deviceId of ours) {
        if (active.has(deviceId)) continue;
        await remove(deviceId);
        pending.delete(deviceId);
        report.deleted++;
      }
      for (const [deviceId, password] of [...pending]) {
        if (active.has(deviceId)) {
          await create(deviceId, password); // on failure the password stays for the next sync
          ours.add(deviceId);
          report.provisioned++;
        }
        pending.delete(deviceId);
      }
      for (const deviceId of active) if (!ours.has(deviceId)) report.missing.push(deviceId);
      return report;
    },
    async provision(deviceId, password) {
      pending.set(deviceId, password);
      await create(deviceId, password);
      pending.delete(deviceId);
    },
    defer(deviceId, password) {
      pending.set(deviceId, password);
    },
    async revoke(deviceId) {
      pending.delete(deviceId);
      await remove(deviceId);
    },
    pendingCount: () => pending.size,
  };
}
