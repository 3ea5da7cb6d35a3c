/**
 * Account streams from a sequence (Subscribe flagged From, docs/PROTOCOL.md "Resuming an
 * account stream"): a client that was away gets the account's stored events from where it
 * stopped, then the live ones, each once and in order.
 *
 *   catching up:  LMDB chunks from `next` ──► the account's events ──► Events frames
 *   seam:         publisher runs ──► the account's events with sequence ≥ `next`
 *   live:         the account's uWS topic (topics.ts), as a Subscribe without From
 *
 * The seam: what the node publishes is durable and committed, so LMDB holds it by then; a
 * catching-up subscriber ignores published runs (its reads reach them) and, once a read finds
 * nothing more, takes the runs itself, skipping the sequences it has read. It joins the topic
 * after the first run that reaches `next - 1`: every later run holds only sequences from
 * `next` on, and is published to the topic before this class sees it (gateway.ts calls
 * `deliver` after Topics.publish), so nothing comes twice and nothing is skipped. A run that
 * starts past `next` (a hole: events committed after the read but never published here, as
 * at a promotion), or a reader that falls behind, sends it back to catching up.
 *
 * Reads are bounded per event-loop turn with journal-stream.ts's, in one budget of
 * journalCatchUpEventsPerTurnMax events shared with them (catch-up-turns.ts: the two kinds take
 * chunks alternately): a thousand resumes from sequence 1 must not hold the gateway's thread.
 * On a standby the topics' tail publishes what it stores (topics-tail.ts), through `deliver` too.
 */
import { eventSizeBytes, eventsPerFrameMax } from '../constants.js';
import type { RecordBuffer } from '../stdx/records.js';
import { readU64, readU64At } from '../stdx/records.js';
import { counterpartyTakesPart, EventKind, EventWord } from '../protocol/event-layout.js';
import {
  EventsFlag,
  eventsOffset,
  FrameType,
  frameHeaderBytes,
  StreamKind,
  SubscribeFlag,
  topicRequestId,
  writeHeader,
} from '../protocol/frames.js';
import type { JournalChunks } from './journal-stream.js';
import { hideMaker, hideTaker } from './trade-privacy.js';
import { asksAccountInFrames, type SubscriptionFields } from './session-subscriptions.js';
import type { WebSocket } from './uws.js';
import { catchUpBufferedMaxBytes } from './catch-up-turns.js';
import { sayResumeStart } from './stream-starts.js';
import type { CatchUpKind, CatchUpTurns } from './catch-up-turns.js';

interface Resume<S> {
  ws: WebSocket<S>;
  account: number;
  /** The first sequence not yet sent. */
  next: number;
  /** Past the stored events: taking published runs (the seam). */
  seam: boolean;
  /** Its frames name the account (the session asked: HelloFlag.AccountInFrames). */
  accountInFrames: boolean;
}

/**
 * The from-sequence of a Subscribe: null when it is not flagged From, or why it is refused
 * (Error 4): flagged on another stream than an account's, without its f64, not a whole
 * number, below the first sequence the journal holds, or past one after its durable head.
 */
export function resumeFrom(
  view: DataView,
  kind: number,
  journal: JournalChunks & { durableSequence(): number },
): number | null | string {
  if ((view.getUint16(2, true) & SubscribeFlag.From) === 0) return null;
  if (kind !== StreamKind.Account) return 'a from-sequence is for account streams only';
  if (view.byteLength < frameHeaderBytes + 24) return 'flagged From without a from-sequence';
  const from = view.getFloat64(frameHeaderBytes + 16, true);
  if (!Number.isSafeInteger(from) || from < 1) return 'from: a sequence, 1 or more';
  const first = journal.firstSequence?.() ?? 1;
  if (from < first) return `from ${from}: the journal holds sequences from ${first} only`;
  const head = journal.durableSequence();
  if (from > head + 1) return `from ${from}: past the journal's durable sequence ${head}`;
  return from;
}

export class AccountResumes<S extends SubscriptionFields> {
  private readonly resumes = new Set<Resume<S>>();
  /** Those reading stored events, in the gateway's turns (shared with journal streams). */
  private readonly catching: CatchUpKind<Resume<S>>;
  /** One Events frame being filled: header, count, reserved, [account,] events. */
  private readonly frame = new Uint8Array(
    eventsOffset(EventsFlag.Account) + eventsPerFrameMax * eventSizeBytes,
  );
  private readonly frameView = new DataView(this.frame.buffer);
  private inFrame = 0;
  /** Where the frame being filled has its events (eventsOffset of its flags). */
  private eventsAt = 0;

  constructor(
    /** The journal's reads (a getter: the gateway makes this before its options are set). */
    private readonly journal: () => JournalChunks,
    /** Subscribes the session to the account's topic: from now on the live stream. */
    private readonly joinTopic: (ws: WebSocket<S>, account: number) => void,
    /** The gateway's catch-up turns (catch-up-turns.ts: one budget for every reader). */
    turns: CatchUpTurns,
  ) {
    this.catching = turns.kind((resume, eventsMax) => this.step(resume, eventsMax));
  }

  /**
   * Sends `account`'s stored events from `from` to `ws`, then the live ones; first, if the
   * session asked, where they start (Subscribed to `requestId`: stream-starts.ts).
   */
  subscribe(ws: WebSocket<S>, account: number, from: number, requestId: number): void {
    sayResumeStart(ws, requestId, account, from);
    const accountInFrames = asksAccountInFrames(ws);
    const resume = { ws, account, next: from, seam: false, accountInFrames };
    this.resumes.add(resume);
    this.catching.add(resume);
  }

  /** Whether `ws` is resuming `account` (a second Subscribe of it changes nothing). */
  holds(ws: WebSocket<S>, account: number): boolean {
    return this.find(ws, account) !== undefined;
  }

  /** Ends `ws`'s resume of `account` (Unsubscribe), and counts it off. */
  unsubscribe(ws: WebSocket<S>, account: number): void {
    const resume = this.find(ws, account);
    if (resume === undefined) return;
    this.forget(resume);
    ws.getUserData().subscriptions--;
  }

  /** Forgets every resume of a closed socket. */
  drop(ws: WebSocket<S>): void {
    for (const resume of this.resumes) if (resume.ws === ws) this.forget(resume);
  }

  /** A published run of durable events (after the topics had it). */
  deliver(records: RecordBuffer, slot: number, count: number): void {
    if (this.resumes.size === 0 || count === 0) return;
    const u32 = records.u32;
    const lastSeq = readU64(u32, (slot + count - 1) * EventWord.size + EventWord.sequence);
    const firstSeq = readU64(u32, slot * EventWord.size + EventWord.sequence);
    for (const resume of this.resumes) {
      if (!resume.seam || lastSeq < resume.next - 1) continue;
      // A run past a hole (a promoted member publishes after the sequence it was promoted at,
      // and what lies before may have been committed only since the read), or a socket that
      // is full: read on from LMDB, which holds the run by now.
      if (firstSeq > resume.next || resume.ws.getBufferedAmount() > catchUpBufferedMaxBytes) {
        resume.seam = false;
        this.catching.add(resume);
        continue;
      }
      const bytes = records.u8.subarray(slot * eventSizeBytes, (slot + count) * eventSizeBytes);
      this.sendNamed(resume, bytes, count);
      // Later runs hold sequences past this one only: the topic has them from now on.
      this.forget(resume);
      this.joinTopic(resume.ws, resume.account);
    }
  }

  private find(ws: WebSocket<S>, account: number): Resume<S> | undefined {
    for (const r of this.resumes) if (r.ws === ws && r.account === account) return r;
    return undefined;
  }

  private forget(resume: Resume<S>): void {
    this.resumes.delete(resume); // deleting the current entry keeps a Set's iteration going
    this.catching.delete(resume);
  }

  /** Reads and sends `resume`'s next chunk: the events read (0: it waits), or null. */
  private step(resume: Resume<S>, eventsMax: number): number | null {
    if (!this.resumes.has(resume)) return null;
    if (resume.ws.getBufferedAmount() > catchUpBufferedMaxBytes) return 0;
    let chunk: ReturnType<JournalChunks['chunkFrom']>;
    try {
      chunk = this.journal().chunkFrom(resume.next, eventsMax);
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      this.forget(resume);
      resume.ws.end(1011, `journal read failed: ${why}`.slice(0, 120));
      return null;
    }
    if (chunk === null) {
      resume.seam = true; // in this same turn: no published run was missed
      return null;
    }
    this.sendNamed(resume, chunk.events, chunk.count);
    resume.next = chunk.last + 1;
    return chunk.count;
  }

  /**
   * Sends the events of `bytes` (`n` raw events, any alignment) from `resume.next` on that
   * name its account, each as the account's stream shows it (trade-privacy.ts), in frames of
   * up to eventsPerFrameMax events.
   */
  private sendNamed(resume: Resume<S>, bytes: Uint8Array, n: number): void {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const account = resume.account;
    const flags = resume.accountInFrames ? EventsFlag.Account : 0;
    this.inFrame = 0;
    this.eventsAt = eventsOffset(flags);
    for (let i = 0; i < n; i++) {
      const at = i * eventSizeBytes;
      if (readU64At(dv, at + EventWord.sequence * 4) < resume.next) continue;
      const kind = dv.getUint8(at + EventWord.kindStatus * 4);
      const own = readU64At(dv, at + EventWord.account * 4);
      const other = readU64At(dv, at + EventWord.counterparty * 4);
      const asOther = own !== account && other === account && counterpartyTakesPart(kind);
      if (own !== account && !asOther) continue;
      const into = this.eventsAt + this.inFrame * eventSizeBytes;
      this.frame.set(bytes.subarray(at, at + eventSizeBytes), into);
      // As Topics sends it: a trade with oneself keeps both sides.
      if (kind === EventKind.Trade && own !== other) {
        if (asOther) hideTaker(this.frame, into);
        else hideMaker(this.frame, into);
      }
      if (++this.inFrame === eventsPerFrameMax) this.flush(resume, flags);
    }
    this.flush(resume, flags);
  }

  /** Sends the frame filled so far, in the session's form (topics.ts draws both). */
  private flush(resume: Resume<S>, flags: number): void {
    if (this.inFrame === 0) return;
    const type = FrameType.Events;
    writeHeader(this.frameView, 0, type, topicRequestId(StreamKind.Account), flags);
    this.frameView.setUint32(frameHeaderBytes, this.inFrame, true);
    this.frameView.setUint32(frameHeaderBytes + 4, 0, true);
    if (resume.accountInFrames) {
      this.frameView.setFloat64(frameHeaderBytes + 8, resume.account, true);
    }
    const end = this.eventsAt + this.inFrame * eventSizeBytes;
    resume.ws.send(this.frame.subarray(0, end), true);
    this.inFrame = 0;
  }
}
