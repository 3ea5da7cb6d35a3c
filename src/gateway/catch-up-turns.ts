/**
 * Readers catching up from LMDB (journal streams, account streams resumed from a sequence),
 * served in turns: each takes a chunk in round-robin order until the turn's budget of events
 * is read, and the event loop runs between turns, so sessions, commands and HTTP are served
 * meanwhile. A turn that moved nothing (sockets full, a standby polling) is followed by the
 * next one `idleMs` later, not at once.
 */
import { journalCatchUpChunkEvents, journalCatchUpEventsPerTurnMax } from '../constants.js';

/** Bytes unsent on a socket above which catching up waits (and a live reader falls back). */
export const catchUpBufferedMaxBytes = 1 << 20;

/**
 * Reads and sends `reader`'s next chunk of at most `eventsMax` events: the events read (0: it
 * waits), or null when it no longer catches up (it went live, or its session is closed).
 */
export type CatchUpStep<T> = (reader: T, eventsMax: number) => number | null;

export class CatchUpTurns<T> {
  /**
   * The readers catching up, in round-robin order: a turn takes the first, and puts it back
   * last while it still catches up (a Set keeps insertion order).
   */
  private readonly catching = new Set<T>();
  /** A turn is scheduled (setImmediate, or a timer while nothing moved). */
  private scheduled = false;

  constructor(
    private readonly step: CatchUpStep<T>,
    private readonly idleMs: number,
  ) {}

  /** Puts `reader` among those catching up; turns take it from there. */
  add(reader: T): void {
    this.catching.add(reader);
    this.schedule(true);
  }

  delete(reader: T): void {
    this.catching.delete(reader);
  }

  private schedule(moved: boolean): void {
    if (this.scheduled || this.catching.size === 0) return;
    this.scheduled = true;
    if (moved) setImmediate(() => this.turn());
    else setTimeout(() => this.turn(), this.idleMs);
  }

  /** One turn: a chunk each, round-robin, until journalCatchUpEventsPerTurnMax are read. */
  private turn(): void {
    this.scheduled = false;
    let budget = journalCatchUpEventsPerTurnMax;
    let moved = false;
    const visits = this.catching.size;
    for (let visit = 0; visit < visits && budget > 0; visit++) {
      const reader = this.catching.values().next().value as T;
      this.catching.delete(reader);
      const read = this.step(reader, Math.min(budget, journalCatchUpChunkEvents));
      if (read === null) continue;
      this.catching.add(reader);
      budget -= read;
      moved ||= read > 0;
    }
    this.schedule(moved);
  }
}
