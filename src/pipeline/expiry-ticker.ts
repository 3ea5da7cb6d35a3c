/**
 * Sends a Tick when a pending transfer is due to expire, so that an idle node releases it.
 *
 *   processor (after each batch)             main thread, every expiryTickMs
 *   progress[nextExpiryUs] = heap's min ───► due <= nextTimestampUs(clockUs(), stamped)?
 *   progress[timestampStamped] = its time      and no Tick of ours in the ring?
 *                                              └► Tick (timerClientId) ──► input ring
 *
 * The engine expires due holds only before it decides a command, at most expiriesPerCommandMax
 * per command, and it never reads a clock (it is deterministic). Without this, a node nobody
 * sent a command to showed expired holds as held for ever, and a burst of due holds was
 * released 64 per client command (a payer's transfer refused, its retry accepted). The next
 * Ticks go once the processor has taken the last, and has published the next expiry it leaves.
 * A backlog (what is left is due by the time the last batch was stamped: its last command
 * expired all it may) gets a burst of Ticks, doubling each turn up to expiryTicksPerTurnMax:
 * one Tick per turn released 640 holds a second, and 65,536 holds due at once took 103 s.
 *
 * Due means due in logical time (logical-time.ts): the time the Tick will be stamped with, never
 * below the last one stamped. Compared with the clock alone, holds due by the journal's time on
 * a node whose clock is behind it (a failover or a restart onto a slower clock, with a backlog
 * past what one command expires) waited for the clock to catch up, or for a client's command.
 */
import { expiryTickMs, expiryTicksPerTurnMax } from '../constants.js';
import { CommandKind } from '../protocol/command-layout.js';
import { nextSystemSeq, putCommand, timerClientId } from '../protocol/command-writer.js';
import { after, consumerWord, RingWord } from '../ring/ring-layout.js';
import { ProgressSlot, type JournalProgress } from '../journal/journal-progress.js';
import { clockUs, nextTimestampUs } from './logical-time.js';
import type { InputPort } from './input-port.js';

export class ExpiryTicker {
  private readonly input: InputPort;
  private readonly progress: JournalProgress;
  /** Whether the node may send commands now (it accepts them, has not failed, not stopping). */
  private readonly may: () => boolean;
  private timer: ReturnType<typeof setInterval> | undefined;
  /** Whether a Tick was sent that the processor may not have taken yet, and the last's sequence. */
  private sent = false;
  private sentSequence = 0;
  /** Ticks the last turn sent (a burst doubles while a backlog lasts). */
  private burst = 0;
  /** The last client seq sent under timerClientId. */
  private clientSeq = 0;
  /** Ticks sent since the start (tests, and whoever debugs a busy journal). */
  ticks = 0;

  constructor(input: InputPort, progress: JournalProgress, may: () => boolean) {
    this.input = input;
    this.progress = progress;
    this.may = may;
  }

  start(): void {
    this.timer = setInterval(() => this.tick(clockUs()), expiryTickMs);
    this.timer.unref(); // never what keeps a process alive
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /**
   * Sends a Tick if an expiry is due when the clock reads `nowUs` (clockUs()), in logical time,
   * or a burst of them for a backlog; true if it sent any.
   */
  tick(nowUs: number): boolean {
    if (!this.may()) return false;
    const header = this.input.ring.header;
    if (this.sent && after(this.sentSequence, Atomics.load(header, consumerWord(0)))) {
      return false; // still in the ring: its expiries are not in the progress slot yet
    }
    this.sent = false;
    const due = this.progress.get(ProgressSlot.nextExpiryUs);
    const stamped = this.progress.get(ProgressSlot.timestampStamped);
    if (due === 0 || due > nextTimestampUs(nowUs, stamped)) {
      this.burst = 0;
      return false;
    }
    // Due at the last stamp: that batch's last command expired all it may, and more waits.
    const backlog = due <= stamped && this.burst > 0;
    const count = backlog ? Math.min(this.burst * 2, expiryTicksPerTurnMax) : 1;
    if (!this.input.hasRoom(count)) return false;
    this.burst = count;
    this.send(count);
    return true;
  }

  /** Puts `count` Ticks into the input ring and publishes them. */
  private send(count: number): void {
    // Any seq would do: expiry runs before the idempotency check, so even a Tick refused as
    // out of order (a clock set back across a restart) expires what is due. Rising with the
    // wall clock keeps them new across restarts, so they are journaled as plain Ticks.
    for (let i = 0; i < count; i++) {
      this.clientSeq = nextSystemSeq(this.clientSeq);
      const fields = { kind: CommandKind.Tick, clientId: timerClientId, clientSeq: this.clientSeq };
      putCommand(this.input, fields);
    }
    this.input.publish();
    // The gateway publishes whole frames in one turn, so the cursor is the last Tick's sequence.
    this.sentSequence = Atomics.load(this.input.ring.header, RingWord.cursor);
    this.sent = true;
    this.ticks += count;
  }
}
