/** `status`: a device's (usually retained) Status — online/offline, versions, profile — feeds liveness. */
import type { MessageHandler } from '../../broker/router.js';
import type { Liveness } from '../liveness.js';

export function createStatusHandler(liveness: Pick<Liveness, 'applyStatus'>): MessageHandler {
  return (message) => liveness.applyStatus(message);
}
