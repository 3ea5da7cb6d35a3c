/**
 * A session's subscriptions, kept so that a reconnect (a dropped connection, a failover to a
 * new primary) takes every one of them up again, as a consumer of a topic expects:
 *
 *   trades, book            asked for again on the new connection (handlers stay as they are);
 *                           trades it had already delivered are dropped (a new primary's
 *                           stream starts from what it had committed, which may be behind
 *                           what the old one sent: `Delivered`)
 *   account                 asked for again from the last sequence delivered (Subscribe
 *                           flagged From: the stored events first), the events of it already
 *                           delivered dropped: each event once across drops and failovers
 *   journal                 asked for again from the last sequence delivered; the events of
 *                           that sequence already delivered are skipped (a command's events
 *                           share its sequence and may span frames), so none comes twice
 *
 * A subscription the server refuses (Error frame naming its request id) goes to its onError,
 * and is not asked for again.
 */
import type { EventRecord } from '../protocol/event-reader.js';
import { StreamKind } from '../protocol/frames.js';
import { namesAccount } from '../protocol/event-layout.js';
import { callHandler } from './handler-calls.js';

type OnError = (error: Error) => void;

interface JournalReader {
  onEvents: (events: EventRecord[]) => void;
  onError: OnError;
  /** What it is, for a warning when a handler throws. */
  about: string;
  /** Where to go on from: the last sequence delivered (the start until one is). */
  from: number;
  /** Events of sequence `from` already delivered (to skip when resuming there). */
  seenAtFrom: number;
  /** Events of sequence `from` to skip in what comes next (after a resume). */
  skip: number;
}

/**
 * What a trades or account handler has delivered, so that a reconnect repeats nothing. Its
 * events come in journal order; a command's events share one sequence. After a reconnect the
 * new stream may start again inside or before what was delivered: its events below the last
 * sequence delivered are dropped, and of that sequence as many as were delivered.
 */
export class Delivered {
  private last = -1;

  /** The sequence of the last event handed over (-1: none yet). */
  get lastSequence(): number {
    return this.last;
  }

  private atLast = 0;
  private seenAtLast = 0;
  private connection = 0;
  /** Sequences up to this one are older than the subscription (the server said so). */
  private after = -1;
  /** Until the server says where the stream starts, whatever comes is older than it. */
  private waiting = false;

  /** Hands over nothing until `startsAfter` (the server will say: AccountStarts, ResumeStarts). */
  wait(): void {
    this.waiting = true;
  }

  /**
   * The stream starts after `sequence`: nothing up to it is handed over. What came before
   * this was said was older too (the server says it before the stream's first frame).
   */
  startsAfter(sequence: number): void {
    this.waiting = false;
    this.after = sequence;
  }

  /**
   * Stops waiting: a reconnect asked for the stream again from a sequence, on a connection
   * that carries no other stream's frames (a server before ResumeStarts answers nothing).
   */
  resumed(): void {
    this.waiting = false;
  }

  /** True when the event of `sequence`, arriving on connection number `connection`, is new. */
  fresh(sequence: number, connection: number): boolean {
    if (this.waiting || sequence <= this.after) return false;
    if (connection !== this.connection) {
      this.connection = connection;
      this.seenAtLast = 0; // the new stream repeats `last`'s events from its first one
    }
    if (sequence < this.last) return false;
    if (sequence === this.last) {
      this.seenAtLast++;
      if (this.seenAtLast <= this.atLast) return false;
      this.atLast++;
      return true;
    }
    this.last = sequence;
    this.atLast = 1;
    this.seenAtLast = 1;
    return true;
  }
}

interface Ask {
  kind: StreamKind;
  param: number;
  onError: OnError;
  /** A trades or account stream's: what it handed over (to say where a gap may begin). */
  delivered: Delivered | null;
  /** An account stream's first sequence wanted while it has delivered none (-1: others). */
  floor: number;
}

/**
 * A trades stream asked for again after a reconnect: its events durable after `afterSequence`
 * (the last it handed over; -1: none yet) and before the first it hands over on the new
 * connection may be missing. Account streams resume from a sequence and have no gap; servers
 * before that was taken (they ignore the From flag) send them from the reconnect on.
 */
export interface StreamGap {
  stream: 'trades' | 'account';
  /** The instrument or the account. */
  id: number;
  afterSequence: number;
}

export class Subscriptions {
  private readonly journals = new Map<number, JournalReader>();
  /** Topic and book subscriptions, by the request id of their latest Subscribe frame. */
  private readonly asks = new Map<number, Ask>();

  /** Any subscription kept (its connection is watched: liveness.ts). */
  get active(): boolean {
    return this.journals.size > 0 || this.asks.size > 0;
  }

  /** Keeps a journal subscription; returns it, to `end` it by. */
  addJournal(
    requestId: number,
    from: number,
    onEvents: JournalReader['onEvents'],
    onError: OnError,
  ): object {
    const about = `the journal stream from sequence ${from}`;
    const reader = { onEvents, onError, about, from, seenAtFrom: 0, skip: 0 };
    this.journals.set(requestId, reader);
    return reader;
  }

  /** Keeps a topic or book subscription; returns it, to `end` it by. */
  addAsk(
    requestId: number,
    kind: StreamKind,
    param: number,
    onError: OnError,
    delivered: Delivered | null = null,
    floor = -1,
  ): object {
    const ask = { kind, param, onError, delivered, floor };
    this.asks.set(requestId, ask);
    return ask;
  }

  /**
   * Forgets a subscription (its frames, if any still come, go nowhere); returns the request id
   * of its latest Subscribe, or -1 when it had ended (refused, or ended before).
   */
  end(subscription: object): number {
    for (const map of [this.journals, this.asks] as Map<number, object>[]) {
      for (const [id, s] of map) {
        if (s !== subscription) continue;
        map.delete(id);
        return id;
      }
    }
    return -1;
  }

  /** Whether a topic or book subscription of `kind` and `param` is still kept. */
  asking(kind: StreamKind, param: number): boolean {
    for (const ask of this.asks.values()) if (ask.kind === kind && ask.param === param) return true;
    return false;
  }

  /**
   * The server says where the account stream asked for by `requestId` starts: after
   * `sequence`. Its handler takes nothing up to it, and resumes after a reconnect from one past
   * it while it has delivered nothing: a quiet client no longer gets its login's events.
   */
  started(requestId: number, sequence: number): void {
    const ask = this.asks.get(requestId);
    if (ask === undefined || ask.kind !== StreamKind.Account || ask.delivered === null) return;
    if (!Number.isSafeInteger(sequence) || sequence < 0) return;
    ask.delivered.startsAfter(sequence);
    ask.floor = sequence + 1;
  }

  /** True when `requestId` is a journal subscription's (its frames go to `deliver`). */
  isJournal(requestId: number): boolean {
    return this.journals.has(requestId);
  }

  /** Hands a journal subscription its events, less those it had before a resume. */
  deliver(requestId: number, events: EventRecord[]): void {
    const reader = this.journals.get(requestId);
    if (reader === undefined) return;
    let start = 0;
    while (reader.skip > 0 && start < events.length && events[start].sequence === reader.from) {
      start++;
      reader.skip--;
    }
    if (start < events.length) reader.skip = 0; // past the repeats
    const fresh = start === 0 ? events : events.slice(start);
    for (const e of fresh) {
      if (e.sequence === reader.from) reader.seenAtFrom++;
      else {
        reader.from = e.sequence;
        reader.seenAtFrom = 1;
      }
    }
    // Counted as delivered above, before the handler runs: one that throws is not sent them
    // again after a reconnect.
    if (fresh.length > 0) callHandler('onEvents', reader.onEvents, fresh, reader.about);
  }

  /** Hands a refusal to its subscription, which is then dropped; false when not one. */
  refuse(requestId: number, error: Error): boolean {
    const reader = this.journals.get(requestId);
    const ask = this.asks.get(requestId);
    this.journals.delete(requestId);
    this.asks.delete(requestId);
    const onError = reader?.onError ?? ask?.onError;
    if (onError !== undefined) callRefusal(onError, error, reader ?? ask);
    return onError !== undefined;
  }

  /**
   * The client closed for good, not by its close(): a drop no member mended within
   * reconnectWaitMs, or a close the server chose (a revoked key, a slow reader). Each
   * subscription hears it through its onError and is dropped; a client of subscriptions only
   * (a book feed, a maker's account stream) stopped delivering without a word.
   */
  endAll(error: Error): void {
    const ended = [...this.journals.values(), ...this.asks.values()];
    this.journals.clear();
    this.asks.clear();
    for (const subscription of ended) callRefusal(subscription.onError, error, subscription);
  }

  /**
   * After a reconnect: asks again for each subscription through `send` (kind, parameter,
   * from-sequence; it returns the new frame's request id). A journal goes on from its last
   * sequence, an account stream from its own (`resumeFroms`); the trades streams' possible gaps
   * are returned. `durable`: the new session's Welcome sequence.
   */
  resume(
    send: (kind: StreamKind, param: number, from?: number) => number,
    durable = Number.POSITIVE_INFINITY,
  ): StreamGap[] {
    const journals = [...this.journals.values()];
    const asks = [...this.asks.values()];
    this.journals.clear();
    this.asks.clear();
    for (const reader of journals) {
      reader.skip = reader.seenAtFrom;
      this.journals.set(send(StreamKind.Journal, reader.from), reader);
    }
    const froms = resumeFroms(asks, durable);
    const gaps: StreamGap[] = [];
    for (const ask of asks) {
      ask.delivered?.resumed();
      const from = ask.kind === StreamKind.Account ? froms.get(ask.param) : undefined;
      this.asks.set(send(ask.kind, ask.param, from), ask);
      if (ask.kind !== StreamKind.Trades || ask.delivered === null) continue;
      gaps.push({ stream: 'trades', id: ask.param, afterSequence: ask.delivered.lastSequence });
    }
    return gaps;
  }
}

/**
 * Where each account stream resumes, by account: the last sequence a handler of it delivered
 * (not one past: a command's events share its sequence, and a drop can fall among them;
 * `Delivered` drops those it had), or its floor when it delivered none; the least over the
 * account's handlers (the server takes one stream per account and session). Never past one
 * after `durable`, what the new member holds: a new primary may have committed less than the
 * old one sent, and the server refuses a sequence past its head.
 */
function resumeFroms(asks: Ask[], durable: number): Map<number, number> {
  const froms = new Map<number, number>();
  for (const ask of asks) {
    if (ask.kind !== StreamKind.Account || ask.delivered === null) continue;
    const last = ask.delivered.lastSequence;
    const from = Math.min(last >= 1 ? last : Math.max(ask.floor, 1), durable + 1);
    froms.set(ask.param, Math.min(from, froms.get(ask.param) ?? from));
  }
  return froms;
}

/**
 * Calls a refusal handler from the socket's message event, where whatever it throws would be
 * out of its caller's reach and end the process (`ask.onError is not a function` did): a
 * throw becomes a process warning instead (BOURSE_ONERROR_THREW), and the session goes on.
 */
function callRefusal(onError: OnError, error: Error, of?: JournalReader | Ask): void {
  if (onError !== warnRefused) return callHandler('onError', onError, error, error.message);
  const about = of === undefined ? undefined : 'about' in of ? of.about : askAbout(of);
  warnRefused(error, about);
}

/** The subscription an ask stands for, in a warning's words. */
function askAbout(ask: Ask): string {
  if (ask.kind === StreamKind.Trades) return `the trades of instrument ${ask.param}`;
  if (ask.kind === StreamKind.Account) return `account ${ask.param}`;
  const top = ask.kind === StreamKind.TopOfBook ? 'top of ' : '';
  return `the ${top}book of instrument ${ask.param}`;
}

/**
 * What a refused subscription does when its caller gave no onError: a process warning (to
 * stderr, or a 'warning' listener), with the server's reason and the subscription it ends
 * (`about`). It used to vanish without a word: a subscribeBook of an instrument past the
 * node's range just never delivered; then it was told without naming which subscription.
 */
export function warnRefused(error: Error, about?: string): void {
  const which = about === undefined ? '' : ` (${about})`;
  const why =
    `bourse: subscription refused or ended${which}: ${error.message} ` +
    '(pass onError to handle it)';
  process.emitWarning(why, { code: 'BOURSE_SUBSCRIPTION_REFUSED' });
}

/** Which events of a topic stream a subscriber of `param` hears: its instrument's or account's. */
export function topicNames(kind: StreamKind, param: number): (e: EventRecord) => boolean {
  return kind === StreamKind.Trades
    ? (e) => e.ref === param
    : (e) => namesAccount(e.kind, e.account, e.counterparty, param);
}

/**
 * A trades or account subscriber's handler of its stream's frames: hands `onEvents` the events
 * that name its instrument or account and that it has not had (`delivered`; `connection`: the
 * connection number, the client's reconnects). They count as delivered before `onEvents` runs,
 * and a throw there is a process warning (handler-calls.ts): the frame's other subscribers
 * still hear it, and nothing comes twice.
 */
export function topicHandler(
  kind: StreamKind,
  param: number,
  onEvents: (events: EventRecord[]) => void,
  delivered: Delivered,
  connection: () => number,
): (events: EventRecord[]) => void {
  const names = topicNames(kind, param);
  const about =
    kind === StreamKind.Trades ? `the trades of instrument ${param}` : `account ${param}`;
  return (events) => {
    const named = events.filter((e) => names(e) && delivered.fresh(e.sequence, connection()));
    if (named.length > 0) callHandler('onEvents', onEvents, named, about);
  };
}
