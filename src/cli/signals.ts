/**
 * Stopping on SIGINT or SIGTERM, for the commands that clean up what they made (drills,
 * benches) before they exit.
 */

/** The exit code of a process stopped by `signal`: 128 + its number (130, 143). */
export function signalExitCode(signal: NodeJS.Signals): number {
  return signal === 'SIGINT' ? 130 : 143;
}

/**
 * Calls `stop` at the first SIGINT or SIGTERM, and ignores the ones after; returns the function
 * that stops listening. Listened for with `on`, not `once`: Ctrl-C on a terminal signals the
 * whole process group (and `bourse bench` passes its own on), so a second signal comes at once,
 * and with the listener gone it killed the process halfway through its clean-up.
 */
export function onStopSignal(
  stop: (signal: NodeJS.Signals) => void,
  /** Told of each signal after the first (a second Ctrl-C: told to wait). */
  again: (signal: NodeJS.Signals) => void = () => {},
): () => void {
  let stopping = false;
  const listener = (signal: NodeJS.Signals): void => {
    if (stopping) return again(signal);
    stopping = true;
    stop(signal);
  };
  process.on('SIGINT', listener).on('SIGTERM', listener);
  return () => {
    process.off('SIGINT', listener).off('SIGTERM', listener);
  };
}
