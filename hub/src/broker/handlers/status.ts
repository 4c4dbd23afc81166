/** `status`: a device's (usually retained) Status — online/offline, versions, profile — feeds liveness. */
import type { Liveness } from '../../fleet/liveness.js';
import type { MessageHandler } from '../router.js';

export function createStatusHandler(liveness: Pick<Liveness, 'applyStatus'>): MessageHandler {
  return (message) => liveness.applyStatus(message);
}
