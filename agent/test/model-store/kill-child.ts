/**
 * Child process of the kill test: opens the store in argv[2], then installs the bundle in argv[3] (or, with
 * `rollback`, rolls the active version back), calling process.kill(SIGKILL) on itself at the step named by
 * CRASH_AT — what a power cut does, with no chance to clean up.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { int8Loader } from '../../src/model-store/int8-loader.js';
import { ModelStore } from '../../src/model-store/model-store.js';
import { DEVICE, heldOut } from './fixtures.js';

const [storeDir, bundleDir, action] = process.argv.slice(2) as [string, string, string];
const read = (name: string) => readFile(join(bundleDir, name)).then((b) => new Uint8Array(b));
const store = await ModelStore.open({
  dir: storeDir, publicKeyPem: await readFile(join(bundleDir, 'public.pem'), 'utf8'), profile: DEVICE, loader: int8Loader(),
  selfTestData: async () => heldOut(),
  crashPoint: (step) => {
    if (step === process.env.CRASH_AT) process.kill(process.pid, 'SIGKILL');
  },
});
if (action === 'rollback') await store.rollback(store.state.active!.versionId, 'kill test');
else await store.install({ manifest: await read('manifest'), signature: await read('signature'), payload: () => read('payload'), mode: 'activate' });
