/** Where things are in the repository, independent of the caller's working directory. */
import { fileURLToPath } from 'node:url';

/** The repository root (the npm workspace root). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The `fedfleet` CLI entry point, run with `node` (it registers tsx itself). */
export const FEDFLEET_BIN = fileURLToPath(new URL('../../hub/bin/fedfleet.mjs', import.meta.url));
