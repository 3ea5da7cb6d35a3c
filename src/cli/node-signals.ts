/**
 * The stop signals of a process that runs a node: `bourse start` (a single node) and
 * `bourse member` (a cluster member). The first SIGINT or SIGTERM stops it cleanly: once it
 * has started when it comes during the start (listened for from before it: a signal while it
 * replays killed it at once), else at once. A second one stops the process at once, and says
 * what that leaves, whether the node was ready or not:
 *
 *   start ──────────────► ready ──────────────► stopping cleanly ──► exit 0
 *     │ 1st: "while starting"        │ 1st: "stopping cleanly"  │
 *     │ 2nd: exit 130/143, "stopped  │                          │ 2nd: exit 130/143, "stopped
 *     ▼     before ready"            ▼                          ▼     at once"
 *
 * Before, a second one during the start killed the process without a word; once ready it was
 * only told that the stop was under way, and a stop that hung (a disk that no longer answers)
 * took `kill -9`. Nothing acknowledged is lost either way: a node answers a command only once
 * it is durable, and a member acknowledges entries only once they are; the folder is as a
 * crash leaves it, which the next start recovers. A member's lines name the member, not a
 * node that lets clients in (a member's standby serves reads and acknowledges to its primary
 * from the start on). A forced exit is also told to a supervising `bourse cluster`
 * (last-words.ts), which names it if the member keeps failing.
 */
import type { LogLevel } from '../pipeline/node.js';
import { tellLastWords } from './last-words.js';
import { onStopSignal, signalExitCode } from './signals.js';

/** Whose process it is: a single node's (`start`) or a cluster member's (`member`). */
export type NodeKind = 'node' | 'member';

export interface NodeSignals {
  /** Resolves at the first stop signal. */
  stopped: Promise<NodeJS.Signals>;
  /** The node is ready: a first signal stops it at once, a second one ends the process. */
  ready(): void;
  /** Stops listening, the start failing with `error`; throws it. */
  off(error: unknown): never;
}

/** Listens for the stop signals of a `kind` running on `dir`; `say` tells each line. */
export function nodeSignals(
  kind: NodeKind,
  dir: string,
  say: (line: string, level: LogLevel) => void,
): NodeSignals {
  const lines = kind === 'node' ? nodeLines : memberLines;
  let ready = false;
  let off = (): void => {};
  const stopped = new Promise<NodeJS.Signals>((resolve) => {
    const first = (signal: NodeJS.Signals): void => {
      say(`${signal}${ready ? lines.stopping : lines.whileStarting}`, 'info');
      resolve(signal);
    };
    off = onStopSignal(first, (signal) => {
      const line = `${signal} again: ${ready ? lines.stoppedAtOnce(dir) : lines.beforeReady(dir)}`;
      say(line, 'warn');
      tellLastWords(`bourse: ${line}`);
      process.exit(signalExitCode(signal));
    });
  });
  const failed = (error: unknown): never => {
    off();
    throw error;
  };
  return { stopped, ready: () => void (ready = true), off: failed };
}

/** What each kind says at each signal (after the signal's name). */
interface SignalLines {
  whileStarting: string;
  stopping: string;
  beforeReady(dir: string): string;
  stoppedAtOnce(dir: string): string;
}

const again = 'a second SIGINT or SIGTERM (Ctrl-C again) stops it at once, as a crash would';

const nodeLines: SignalLines = {
  whileStarting:
    ' while starting: stopping as soon as the node has started (the journal replayed); ' +
    'Ctrl-C again stops at once, as a crash would, and loses nothing acknowledged',
  stopping: `: stopping cleanly (what the node accepted is journaled and flushed); ${again}`,
  beforeReady: (dir) =>
    `stopped before ready; no client was let in, nothing acknowledged; ${dir} is as a crash ` +
    'leaves it (every batch journaled before is whole), and the next start recovers it',
  stoppedAtOnce: (dir) =>
    'stopped at once, the clean stop not finished; nothing acknowledged is lost (a command ' +
    `is answered only once durable); ${dir} is as a crash leaves it, and the next start ` +
    'recovers it',
};

const memberLines: SignalLines = {
  whileStarting:
    ' while starting: stopping as soon as the member has started (its journal replayed); ' +
    'Ctrl-C again stops at once, as a crash would, and loses nothing it acknowledged',
  stopping: `: stopping the member cleanly (a primary hands over to a standby first); ${again}`,
  beforeReady: (dir) =>
    `the member stopped before ready, as a crash would; what it acknowledged is durable in ` +
    `${dir}, and its next start recovers it (the other members go on without it meanwhile)`,
  stoppedAtOnce: (dir) =>
    'the member stopped at once, the clean stop not finished (no handover: if it was the ' +
    'primary, the others elect one); nothing it acknowledged is lost (it acknowledges only ' +
    `what is durable); ${dir} is as a crash leaves it, and its next start recovers it`,
};
