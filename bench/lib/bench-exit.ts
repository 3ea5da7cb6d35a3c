/**
 * How a bench ends when it is stopped: Ctrl-C, or SIGTERM from `bourse bench` (which passes its
 * own signals on) or a supervisor. It must not leave its load processes running against a node
 * that is gone, nor its data folder behind.
 *
 *   bourse bench ──SIGTERM──► <scenario>.bench.js ──exit──► IPC channel closed ──► clients exit
 *                                 └ cleanUp: members killed, folder removed
 *
 * Nor on any other exit (a load process's error thrown out of the bench's `main`): its folder
 * goes on the 'exit' event too (removeOnExit).
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

/**
 * Removes `dir` however the bench ends: a signal, or an exit of any kind (done, a thrown error
 * or a rejected `main`, `process.exit`). Removing on a signal alone left the folder (about 1 GB
 * at the large size) whenever a load process exited with an error: the bench's `main` threw
 * past its own `rmSync`. A folder already removed is no error (force).
 */
export function removeOnExit(dir: string): void {
  const remove = (): void => rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  process.once('exit', remove);
  exitOnSignal(remove);
}

/** A forked load process ends with its bench: its IPC channel closes when the bench exits. */
export function endWithParent(): void {
  process.once('disconnect', () => process.exit(1));
}
