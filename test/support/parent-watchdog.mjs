// Preloaded (`node --import`) into every child that test/support spawns, so that no child outlives its parent,
// however the parent ends (even SIGKILL, which runs no handler). The parent holds the write end of this process's
// stdin; when the parent dies the pipe closes, and this process stops itself the way an operator would (SIGTERM:
// the hub and the sim shut down gracefully), exits hard if that takes too long, and removes the folder named by
// FEDFLEET_ORPHAN_CLEANUP_DIR (its temporary data directory).
import { rmSync } from 'node:fs';

const GRACE_MS = 5_000;
let orphaned = false;

if (process.stdin && !process.stdin.isTTY) {
  process.stdin.on('data', () => {});
  process.stdin.on('error', () => {});
  process.stdin.on('close', () => {
    orphaned = true;
    process.kill(process.pid, 'SIGTERM');
    setTimeout(() => process.exit(1), GRACE_MS).unref();
  });
  // Never keep the process alive on its own: the child exits when its own work is done.
  process.stdin.unref?.();
  process.on('exit', () => {
    const dir = process.env.FEDFLEET_ORPHAN_CLEANUP_DIR;
    if (orphaned && dir) rmSync(dir, { recursive: true, force: true });
  });
}
