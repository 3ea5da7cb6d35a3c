/**
 * Readers catching up from LMDB (journal streams, account streams resumed from a sequence),
 * served in turns: each takes a chunk in turn until the turn's budget of events is read, and
 * the event loop runs between turns, so sessions, commands and HTTP are served meanwhile. A
 * turn that moved nothing (sockets full, a standby polling) is followed by the next one
 * `idleMs` later, not at once.
 *
 * One budget for every kind of reader: journal streams and account resumes each had turns of
 * their own, each journalCatchUpEventsPerTurnMax events, so together they read twice that
 * between two looks at the sockets. The kinds take chunks alternately (round-robin within a
 * kind), so while both have readers waiting each gets about half a turn, however many readers
 * the other has; a kind alone gets all of it. Each reader takes at most one chunk a turn.
 *
 *   turn:  journal A ─ resume X ─ journal B ─ resume Y ─ journal C ─ ...  until the budget
 */
import { journalCatchUpChunkEvents, journalCatchUpEventsPerTurnMax } from '../constants.js';
import { assert } from '../stdx/assert.js';

/** Bytes unsent on a socket above which catching up waits (and a live reader falls back). */
export const catchUpBufferedMaxBytes = 1 << 20;

/**
 * Reads and sends `reader`'s next chunk of at most `eventsMax` events: the events read (0: it
 * waits), or null when it no longer catches up (it went live, or its session is closed).
 */
export type CatchUpStep<T> = (reader: T, eventsMax: number) => number | null;

/** The kinds of reader a gateway has (journal streams, account resumes). */
const kindsMax = 2;

/** One kind of reader: its readers catching up, and its step. */
export class CatchUpKind<T> {
  /**
   * Its readers catching up, in round-robin order: a visit takes the first, and puts it back
   * last while it still catches up (a Set keeps insertion order).
   */
  private readonly catching = new Set<T>();

  constructor(
    private readonly turns: CatchUpTurns,
    private readonly step: CatchUpStep<T>,
  ) {}

  /** Puts `reader` among those catching up; turns take it from there. */
  add(reader: T): void {
    this.catching.add(reader);
    this.turns.schedule(true);
  }

  delete(reader: T): void {
    this.catching.delete(reader);
  }

  get size(): number {
    return this.catching.size;
  }

  /** Steps its first reader with `eventsMax`: what the step returned. */
  visit(eventsMax: number): number | null {
    assert(this.catching.size > 0, 'catch-up-turns: a reader to visit');
    const reader = this.catching.values().next().value as T;
    this.catching.delete(reader);
    const read = this.step(reader, eventsMax);
    if (read !== null) this.catching.add(reader);
    return read;
  }
}

/** The gateway's turns of catching up: one budget over every kind of reader. */
export class CatchUpTurns {
  private readonly kinds: CatchUpKind<unknown>[] = [];
  /** Per kind, the visits left in the turn under way (its readers when the turn began). */
  private readonly left: number[] = [];
  /** The kind that takes the next chunk (kept from turn to turn). */
  private next = 0;
  /** A turn is scheduled (setImmediate, or a timer while nothing moved). */
  private scheduled = false;

  constructor(private readonly idleMs: number) {}

  /** A kind of reader, stepped by `step`; its readers share this budget with the others'. */
  kind<T>(step: CatchUpStep<T>): CatchUpKind<T> {
    assert(this.kinds.length < kindsMax, 'catch-up-turns: kinds within their bound');
    const kind = new CatchUpKind<T>(this, step);
    this.kinds.push(kind as CatchUpKind<unknown>);
    this.left.push(0);
    return kind;
  }

  /** Schedules a turn, at once when the last one moved, while any reader catches up. */
  schedule(moved: boolean): void {
    if (this.scheduled || this.readers() === 0) return;
    this.scheduled = true;
    if (moved) setImmediate(() => this.turn());
    else setTimeout(() => this.turn(), this.idleMs);
  }

  private readers(): number {
    let n = 0;
    for (const kind of this.kinds) n += kind.size;
    return n;
  }

  /**
   * One turn: a chunk at a time, the kinds in turn, until journalCatchUpEventsPerTurnMax are
   * read or every reader had its chunk.
   */
  private turn(): void {
    this.scheduled = false;
    let budget = journalCatchUpEventsPerTurnMax;
    let moved = false;
    let visits = 0;
    for (let k = 0; k < this.kinds.length; k++) {
      this.left[k] = this.kinds[k].size;
      visits += this.left[k];
    }
    for (let visit = 0; visit < visits && budget > 0; visit++) {
      const k = this.nextKind();
      this.left[k]--;
      // A kind's readers may have left meanwhile (a step closed a session): none to visit.
      if (this.kinds[k].size === 0) continue;
      const read = this.kinds[k].visit(Math.min(budget, journalCatchUpChunkEvents));
      if (read === null) continue;
      budget -= read;
      moved ||= read > 0;
    }
    this.schedule(moved);
  }

  /** The next kind with visits left this turn, round-robin from `next` (one has some). */
  private nextKind(): number {
    let k = this.next;
    for (let i = 0; i < this.kinds.length && this.left[k] === 0; i++) {
      k = (k + 1) % this.kinds.length;
    }
    assert(this.left[k] > 0, 'catch-up-turns: a kind with visits left');
    this.next = (k + 1) % this.kinds.length;
    return k;
  }
}
