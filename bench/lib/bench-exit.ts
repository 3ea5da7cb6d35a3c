/**
 * How a bench ends when it is stopped: Ctrl-C, or SIGTERM from `bourse bench` (which passes its
 * own signals on) or a supervisor. It must not leave its load processes running against a node
 * that is gone, nor its data folder behind.
 *
 *   bourse bench ──SIGTERM──► <scenario>.bench.js ──exit──► IPC channel closed ──► clients exit
 *                                 └ cleanUp: members killed, folder removed
 */
import { rmSync } from 'node:fs';
import { onStopSignal, signalExitCode } from '../../src/cli/signals.js';

/** Ctrl-C or SIGTERM: `cleanUp` (synchronous), then exit 130 (SIGINT) or 143 (SIGTERM). */
export function exitOnSignal(cleanUp: () => void): void {
  // A second signal killed the bench in its clean-up (onStopSignal): its folder stayed.
  onStopSignal((signal) => {
    cleanUp();
    process.exit(signalExitCode(signal));
  });
}

/** Removes `dir` when the bench is stopped by a signal. */
export function removeOnSignal(dir: string): void {
  exitOnSignal(() => rmSync(dir, { recursive: true, force: true }));
}

/** A forked load process ends with its bench: its IPC channel closes when the bench exits. */
export function endWithParent(): void {
  process.once('disconnect', () => process.exit(1));
}
