/**
 * How a bench ends when it is stopped: Ctrl-C, or SIGTERM from `bourse bench` (which passes its
 * own signals on) or a supervisor. It must not leave its load processes running against a node
 * that is gone, nor its data folder behind.
 *
 *   bourse bench ──SIGTERM──► <scenario>.bench.js ──exit──► IPC channel closed ──► clients exit
 *                                 └ cleanUp: members killed, folder removed
 */
import { rmSync } from 'node:fs';

/** Ctrl-C or SIGTERM: `cleanUp` (synchronous), then exit 130 (SIGINT) or 143 (SIGTERM). */
export function exitOnSignal(cleanUp: () => void): void {
  let stopping = false;
  // Listened for with `on`, not `once`: Ctrl-C on a terminal signals the whole process group,
  // and `bourse bench` passes its own on, so a second signal comes at once. With the listener
  // gone, it killed the bench in its clean-up, and its folder (300 MB of journal) stayed.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      cleanUp();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  }
}

/** Removes `dir` when the bench is stopped by a signal. */
export function removeOnSignal(dir: string): void {
  exitOnSignal(() => rmSync(dir, { recursive: true, force: true }));
}

/** A forked load process ends with its bench: its IPC channel closes when the bench exits. */
export function endWithParent(): void {
  process.once('disconnect', () => process.exit(1));
}
