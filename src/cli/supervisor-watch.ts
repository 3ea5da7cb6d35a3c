/**
 * A member started by a supervisor (`bourse cluster`, a drill, a bench) stops once the
 * supervisor is gone, however it went (SIGKILL, the OOM killer): its members run in process
 * groups of their own, out of reach of a terminal's Ctrl-C, so nothing else would stop them,
 * and they ran on with their ports and folders held. The supervisor gives each member one end
 * of a pipe (stdio fd 4, spawnMember) and holds the other; the kernel closes it when the
 * supervisor ends, and the member reads the end of the stream at once, at any stage:
 *
 *   supervisor ──fd 4 (a socket pair)──► member: 'end' ──► ready: stops cleanly (a primary
 *                                                     │    hands over first)
 *                                                     └──► starting: stops cleanly once
 *                                                          started; not started within
 *                                                          stopMs: exits at once (143)
 *
 * Before, the member checked every second whether its parent was still the supervisor, and
 * only once it was ready: a member whose start did not end (a replay of hours, a peer's
 * answer that never ended) ran on for good after its supervisor's SIGKILL. One whose start
 * does not end in time exits as a crash would: it acknowledges only what is durable.
 */
import { Socket } from 'node:net';
import { memberStopMs } from '../constants.js';
import type { NodeLog } from '../pipeline/node.js';
import { tellLastWords } from './last-words.js';
import { signalExitCode } from './signals.js';

/** Names the supervisor's pid to the members it starts (said when it is gone). */
export const supervisorPidVariable = 'BOURSE_SUPERVISOR_PID';
/** Set (to supervisorFd) by the supervisor: the member's end of its pipe. */
export const supervisorFdVariable = 'BOURSE_SUPERVISOR_FD';
export const supervisorFd = 4;

export interface SupervisorWatch {
  /** Resolves once the supervisor is gone after the member was ready; never without one. */
  gone: Promise<void>;
  /** The member is ready: the supervisor's end stops it cleanly from now on. */
  ready(): void;
}

/**
 * Watches the supervisor's pipe, if this process was given one, from now on. `stopMs`: how long
 * a start may go on once the supervisor is gone (`bourse member --stop-ms`, its supervisor's).
 */
export function watchSupervisor(log: NodeLog, stopMs = memberStopMs): SupervisorWatch {
  if (process.env[supervisorFdVariable] !== String(supervisorFd)) {
    return { gone: new Promise(() => {}), ready: () => {} }; // by hand, a service manager
  }
  const pid = process.env[supervisorPidVariable] ?? '?';
  let ready = false;
  let ended = false;
  let stop = (): void => {};
  const gone = new Promise<void>((resolve) => {
    stop = () => {
      log(`its supervisor (pid ${pid}) is gone: stopping`);
      resolve();
    };
  });
  const pipe = new Socket({ fd: supervisorFd, readable: true, writable: false });
  pipe.unref(); // watched, not waited for: the member ends when its work does
  pipe.on('data', () => {}); // nothing is sent down it: read to see its end
  const end = (): void => {
    if (ended) return;
    ended = true;
    if (ready) return stop();
    log(
      `its supervisor (pid ${pid}) is gone while the member starts: it stops once started, ` +
        `or at once if not started within ${stopMs / 1000} s`,
      'warn',
    );
    setTimeout(() => exitStarting(pid, log, stopMs), stopMs).unref();
  };
  pipe.once('end', end).once('close', end).once('error', end);
  const started = (): void => {
    ready = true;
    if (ended) stop();
  };
  return { gone, ready: started };
}

/** A start that did not end in time after the supervisor went: the member exits at once. */
function exitStarting(pid: string, log: NodeLog, stopMs: number): never {
  const line =
    `its supervisor (pid ${pid}) is gone and the member did not start within ` +
    `${stopMs / 1000} s: stopped at once, as a crash would (nothing it acknowledged ` +
    'is lost; its next start recovers it)';
  log(line, 'warn');
  tellLastWords(`bourse: ${line}`);
  process.exit(signalExitCode('SIGTERM'));
}
