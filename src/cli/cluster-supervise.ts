/**
 * `bourse cluster`'s members as child processes, kept running: a member that exits while the
 * cluster runs (killed, crashed) is reported and started again, and rejoins as a standby that
 * catches up. One that fails right after its start is reported, and tried again later when its
 * cause may clear (a port, a disk: 10 s, 20 s, ... up to 5 min), else left down. One whose
 * runs keep failing within a minute of their start waits longer each time (1 s, 2 s, ... up to
 * 60 s), and is said to be crash-looping once, with its exit and the line it failed with.
 *
 *   spawn ──► running ──exit──► (stopping?) ──no──► quick exit? ──no──► wait 1 s (doubling
 *                                   │yes                 │yes           while runs fail), spawn
 *                                   ▼                    ▼
 *                                 done         may clear? ──yes──► wait 10 s, 20 s, ..., spawn
 *                                                        │no
 *                                                        ▼
 *                                                  left down (reported)
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import {
  memberCrashLoopCount,
  memberMallocMmapThresholdBytes,
  memberRestartDelayMs,
  memberRestartDelayMsMax,
  memberRestartQuickMs,
  memberRetryDownMs,
  memberRetryDownMsMax,
  memberStopMs,
  memberUpStableMs,
} from '../constants.js';
import { exitCodeMeaning } from './output.js';
import { LastWords, lastWordsFd, lastWordsVariable } from './last-words.js';
import { supervisorFd, supervisorFdVariable, supervisorPidVariable } from './supervisor-watch.js';
import { chosenLogFormat, logFormatVariable, writeOwnLine, type OwnLevel } from './log-format.js';
import type { LogFormat } from './choices.js';

const mainScript = fileURLToPath(new URL('../main.js', import.meta.url));

/**
 * The signal `bourse cluster` stops all its members with: a clean stop without a handover. On
 * SIGTERM or SIGINT each primary handed over to a standby that was stopping too (Ctrl-C
 * reached every member of the terminal's process group), which stood in a new term for nothing.
 */
export const wholeClusterSignal = 'SIGUSR2';

/** glibc's, read at a process's start (memberMallocMmapThresholdBytes). */
export const mallocMmapThresholdVariable = 'MALLOC_MMAP_THRESHOLD_';

/** How a member process is started (spawnMember); each has a default. */
export interface MemberSpawn {
  /** Where its stdout and stderr go: inherited, dropped, or a file descriptor. */
  output?: 'inherit' | 'ignore' | number;
  /** A command it runs under (`ip netns exec <ns>`), which execs it: the pid stays its. */
  prefix?: readonly string[];
  /**
   * In a process group of its own (the default): a terminal's Ctrl-C reaches the supervisor
   * alone, which stops its members as it means to (MemberProcess.stop, stopMembersSync).
   * Before, a drill's and a bench's members got the Ctrl-C too: stopping already when the
   * supervisor's own stop came, they took it as a second signal and exited at once.
   */
  detached?: boolean;
  /** A pipe on fd 3, down which it tells the line it fails with (last-words.ts). */
  lastWords?: boolean;
  /** The format of its own lines (log-format.ts): its supervisor's. */
  logFormat?: LogFormat;
  /**
   * Its supervisor gone while it starts, it exits at once after this (`--stop-ms`;
   * supervisor-watch.ts); not given: memberStopMs. The supervisor's own stop wait.
   */
  stopMs?: number;
}

/** Starts member `id` of `clusterPath` as a child process. */
export function spawnMember(
  clusterPath: string,
  id: number,
  dataDir: string,
  bootstrap: boolean,
  {
    output = 'inherit',
    prefix = [],
    detached = true,
    lastWords = false,
    logFormat,
    stopMs,
  }: MemberSpawn = {},
): ChildProcess {
  const args = [mainScript, 'member', '--cluster', clusterPath, '--id', String(id)];
  args.push('--data', dataDir);
  if (bootstrap) args.push('--bootstrap');
  if (stopMs !== undefined) args.push('--stop-ms', String(stopMs));
  const [command, ...rest] = [...prefix, process.execPath, ...args];
  // The member stops when this process is gone: fd 4 closes (supervisor-watch.ts).
  const env = {
    [mallocMmapThresholdVariable]: String(memberMallocMmapThresholdBytes), // constants.ts
    ...process.env,
    [supervisorPidVariable]: String(process.pid),
    [supervisorFdVariable]: String(supervisorFd),
    ...(lastWords ? { [lastWordsVariable]: String(lastWordsFd) } : {}),
    ...(logFormat === undefined ? {} : { [logFormatVariable]: logFormat }),
  };
  const words = lastWords ? 'pipe' : 'ignore';
  const stdio: StdioOptions = ['ignore', output, output, words, 'pipe']; // fds 3 and 4
  const child = spawn(command, rest, { stdio, env, detached });
  // This end goes with the member: a process the member started that still held its end
  // would otherwise keep this one's open, and this process running.
  child.once('exit', () => (child.stdio[supervisorFd] as Socket | null)?.destroy());
  return child;
}

/** A supervised member's waits (`bourse cluster --member-retry-ms`, `--member-stop-ms`). */
export interface MemberWaits {
  /** The first wait before a member whose start failed is tried again (memberRetryDownMs). */
  retryMs?: number;
  /** A member still running this long after it was asked to stop is killed (memberStopMs). */
  stopMs?: number;
}

export class MemberProcess {
  readonly id: number;
  private readonly clusterPath: string;
  private readonly dataDir: string;
  private child: ChildProcess | null = null;
  /**
   * When it was last spawned, on the monotonic clock: with the wall clock (Date.now), a step
   * back (NTP) made a member that ran for hours and then failed look like a quick exit, and it
   * was left down (or waited 10 s and more) instead of being started again after 1 s.
   */
  private startedAt = 0;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | null = null;
  /** The first wait before trying again a member whose quick exit may clear. */
  private readonly retryFirstMs: number;
  /** How long it may take to stop, or to start once this process is gone (MemberWaits). */
  private readonly stopMs: number;
  /** The next such wait: retryFirstMs, doubled at each quick exit up to memberRetryDownMsMax. */
  private retryMs: number;
  /** The wait before starting it again after another exit (memberRestartDelayMs, doubling). */
  private restartMs = memberRestartDelayMs;
  /** Its runs in a row that ended within memberUpStableMs of their start. */
  private failures = 0;
  /** Told of a member left down, with its exit code (cluster.ts ends once all are). */
  onLeftDown: (code: number) => void = () => {};

  constructor(
    clusterPath: string,
    id: number,
    dataDir: string,
    bootstrap: boolean,
    { retryMs = memberRetryDownMs, stopMs = memberStopMs }: MemberWaits = {},
  ) {
    this.clusterPath = clusterPath;
    this.id = id;
    this.dataDir = dataDir;
    this.retryFirstMs = retryMs;
    this.retryMs = retryMs;
    this.stopMs = stopMs;
    this.start(bootstrap);
  }

  /** The running process's pid, or null while it is down. */
  pid(): number | null {
    return this.child?.pid ?? null;
  }

  /**
   * Stops it (SIGTERM: a clean stop, a primary handing over; `wholeClusterSignal`: every member
   * stops, so none hands over) and resolves when it has exited; no restart after. One that has
   * not exited after `killAfterMs` (stopped with SIGSTOP, hung) is killed with SIGKILL, and
   * given up after as long again (a process stuck in the kernel, on a failing disk, outlives
   * SIGKILL), each said: a Ctrl-C of `bourse cluster` waited for it for ever, saying nothing.
   */
  stop(signal: NodeJS.Signals = 'SIGTERM', killAfterMs = this.stopMs): Promise<void> {
    this.stopping = true;
    if (this.restartTimer !== null) clearTimeout(this.restartTimer);
    const child = this.child;
    if (child === null) return Promise.resolve();
    return new Promise((resolve) => {
      const pid = child.pid;
      const seconds = killAfterMs / 1000;
      const giveUp = (): void => {
        const left = `member ${this.id} (pid ${pid}) still runs ${seconds} s after SIGKILL: left`;
        say(left, { member: this.id, event: 'left-running', pid }, 'error');
        resolve();
      };
      let timer = setTimeout(() => {
        const killed = `did not stop within ${seconds} s: killed (SIGKILL)`;
        say(
          `member ${this.id} (pid ${pid}) ${killed}`,
          { member: this.id, event: 'killed', pid },
          'warn',
        );
        child.kill('SIGKILL');
        timer = setTimeout(giveUp, killAfterMs);
      }, killAfterMs);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill(signal);
    });
  }

  private start(bootstrap: boolean): void {
    this.startedAt = performance.now();
    const child = spawnMember(this.clusterPath, this.id, this.dataDir, bootstrap, {
      lastWords: true,
      logFormat: chosenLogFormat() ?? undefined,
      stopMs: this.stopMs,
    });
    this.child = child;
    const words = new LastWords((child.stdio[lastWordsFd] as Readable | null) ?? null);
    child.once('exit', (code, signal) => {
      this.child = null;
      const ranMs = Math.round(performance.now() - this.startedAt);
      // What it told before its exit may be read just after it: awaited, briefly.
      void words.settled(lastWordsWaitMs).then(() => this.exited(code, signal, ranMs, words));
    });
  }

  private exited(
    code: number | null,
    signal: NodeJS.Signals | null,
    ranMs: number,
    words: LastWords,
  ): void {
    if (this.stopping) return;
    const how =
      signal === null ? `exit code ${code}: ${exitCodeMeaning(code ?? 70)}` : `signal ${signal}`;
    const fields = { member: this.id, code, signal, ranMs };
    // A run that lasted ends a crash loop and is none of the next one's runs (counted as its
    // first, a loop was said one failed run early, and its count was wrong): the waits start
    // afresh from it.
    const lasted = ranMs >= memberUpStableMs;
    this.failures = lasted ? 0 : this.failures + 1;
    if (lasted) this.restartMs = memberRestartDelayMs;
    // Killed by a signal is not a fault of its own: only a quick exit with an error code is.
    if (signal === null && code !== 0 && ranMs < memberRestartQuickMs) {
      const at = `member ${this.id} exited (${how}) ${ranMs} ms after its start`;
      if (!mayClear(code ?? 70)) {
        const why = 'left down (its log above says why); the others go on while a majority';
        say(`${at}: ${why}`, { ...fields, event: 'left-down' }, 'error');
        return this.onLeftDown(code ?? 70);
      }
      const waitMs = this.retryMs;
      this.retryMs = Math.min(this.retryMs * 2, memberRetryDownMsMax);
      const retry = `trying it again in ${waitMs / 1000} s (free the disk or the port)`;
      say(`${at}: down; ${retry}`, { ...fields, event: 'down', restartMs: waitMs }, 'error');
      this.sayCrashLoop(how, words.line(), [waitMs, memberRetryDownMsMax], fields);
      return this.restartAfter(waitMs);
    }
    this.retryMs = this.retryFirstMs; // it ran: a later fault starts the waits afresh
    const waitMs = this.restartMs;
    this.restartMs = Math.min(this.restartMs * 2, memberRestartDelayMsMax);
    const again = `starting it again in ${waitMs / 1000} s`;
    say(
      `member ${this.id} exited (${how}); ${again}`,
      { ...fields, event: 'exited', restartMs: waitMs },
      'warn',
    );
    this.sayCrashLoop(how, words.line(), [waitMs, memberRestartDelayMsMax], fields);
    this.restartAfter(waitMs);
  }

  /**
   * Says once, at the memberCrashLoopCount-th failed run in a row, that the member is
   * crash-looping, how it last ended and the line it failed with: each exit was said alike,
   * and the operator had to find the loop and its cause among the members' lines. `waits`:
   * the next wait, and the most the waits double up to (ms).
   */
  private sayCrashLoop(
    how: string,
    line: string | null,
    [waitMs, maxMs]: [number, number],
    fields: Record<string, unknown>,
  ): void {
    if (this.failures !== memberCrashLoopCount) return;
    const within = memberUpStableMs / 1000;
    const told = line === null ? 'it told no reason (see its log above)' : `it said: ${line}`;
    say(
      `member ${this.id} is crash-looping: ${this.failures} runs in a row ended within ` +
        `${within} s of their start, the last with ${how}; ${told}. It is tried again in ` +
        `${waitMs / 1000} s, the waits doubling up to ${maxMs / 1000} s ` +
        `until a run lasts ${within} s: fix the cause, or stop the cluster`,
      { ...fields, event: 'crash-loop', runs: this.failures, said: line, restartMs: waitMs },
      'error',
    );
  }

  private restartAfter(ms: number): void {
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (this.stopping) return;
      this.start(false);
      const pid = this.pid();
      const again = `member ${this.id} started again (pid ${pid}); it rejoins as a standby`;
      say(again, { member: this.id, event: 'started', pid });
    }, ms);
  }
}

/** How long an exited member's told line is waited for (ms): it comes at once, if at all. */
const lastWordsWaitMs = 200;

/**
 * A line of `bourse cluster`'s own on stderr: text, or JSON as its members' lines are, named
 * `bourse cluster`, with `fields` (log-format.ts).
 */
export function say(
  message: string,
  fields: Record<string, unknown> = {},
  level: OwnLevel = 'info',
): void {
  writeOwnLine('bourse cluster', message, level, { name: 'bourse cluster', ...fields });
}

/** Exit codes whose cause lies outside the member's folder and may clear (program.ts). */
function mayClear(code: number): boolean {
  return code === 68 || code === 69 || code === 73 || code === 74 || code === 75;
}
