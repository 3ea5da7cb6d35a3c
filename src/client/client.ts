/**
 * The TypeScript SDK: a typed client for the binary protocol (docs/PROTOCOL.md).
 *
 *   const client = await BourseClient.connect('ws://127.0.0.1:9001/', { clientId: 7 });
 *   const [head] = await client.transfer({ account: 1, target: 2, ref: 1, quantity: 100 });
 *   if (head.status !== 0) console.log('rejected:', statusName(head.status));
 *
 * Every call returns a promise that resolves with the command's events once they are durable
 * (the first carries the command's status). Commands issued in the same tick go out in one
 * frame. To stream, `submitBatch` sends many commands for one promise and answers each with
 * its status and sequence in typed arrays (batches.ts). A frame of batch commands only is sent
 * ResultsOnly: the server answers each of them with a 24-byte result, not its 128-byte events:
 *
 *   const r = await client.submitBatch(CommandKind.Transfer, transfers);
 *   for (let i = 0; i < r.count; i++) if (r.status[i] !== 0) retryLater(transfers[i]);
 *
 * A caller that wants a command's outcome only calls `submitStatus`, which tells it to a
 * handler with the call's tag: no promise, no events (status-calls.ts).
 *
 * Client sequence numbers are assigned here, one per command, so that a resend after a
 * reconnect is recognised by the engine and applied once.
 */
import WebSocket from 'ws';
import {
  commandSizeBytes,
  commandsPerFrameMax,
  sdkBusyTimeoutMs,
  sdkSilenceMs,
} from '../constants.js';
import { CommandBatchEncoder } from '../protocol/command-batch.js';
import { CommandKind } from '../protocol/command-layout.js';
import { writeCommandOf, type CommandBody } from '../protocol/command-writer.js';
import {
  checkConnectOptions,
  checkFrom,
  checkSubscribe,
  checkUrl,
  batchCommandError,
  commandError,
  statusCallError,
  givenNamed,
  noFields,
} from './input-check.js';
import {
  batchEndsInChain,
  chainParts,
  chainTooLong,
  ChainGather,
  isLinked,
  type ChainMember,
} from './chains.js';
import { cancelRounds } from './cancel-all.js';
import { shown } from '../protocol/shown.js';
import {
  namedList,
  namedCommands,
  toFields,
  type AmendArgs,
  type CancelArgs,
  type CancelAllArgs,
  type CancelClientOrdersArgs,
  type NamedCommand,
  type OrderArgs,
  type TransferArgs,
} from '../protocol/named-commands.js';
import { ClientError, memberUrls, type ConnectOptions } from './session.js';
import { NamedCalls } from './named-calls.js';
import { ConnectionStates, openTold, type ConnectionState } from './connection-state.js';
import { reopenSession } from './reconnect.js';
import { warnRefused } from './subscriptions.js';
import { Streams } from './streams.js';
import type { EventRecord } from '../protocol/event-reader.js';
import { SeqWindow } from './seq-window.js';
import {
  closedErrors,
  countAnswer,
  foreignErrors,
  frameRefused,
  lowestUnsent,
  rejectPending,
  type CutOff,
  type Pending,
  type UnansweredFrame,
} from './unanswered.js';
import { Liveness } from './liveness.js';
import { BusyResend } from './busy-resend.js';
import { busyTimedOut, failFrame, takeFramesFrom } from './busy-give-up.js';
import { Admission } from './admission.js';
import { AnswerRuns } from './answer-runs.js';
import { frameFits, lastSequenceOf } from './frame-check.js';
import { Batches, joinResults, noResults, type BatchResult } from './batches.js';
import { StatusCalls } from './status-calls.js';
import { callStatus, type OnStatus } from './handler-calls.js';
import type { BookView } from '../protocol/book-frame.js';
import {
  CommandsFlag,
  FrameError,
  FrameType,
  frameHeaderBytes,
  protocolVersion,
  StreamKind,
} from '../protocol/frames.js';

/** Everything else the SDK exports: its errors, kinds, codes and types (public-names.ts). */
export * from './public-names.js';

type Fields = CommandBody;
/** A command kind: the exported `CommandKind`'s members (the schema's enum), or numbers. */
type CommandKindValue = number;
type OnEvents = (events: EventRecord[]) => void;
type OnRefusal = (error: ClientError) => void;
type OnError = (error: Error) => void;
/** Ends a subscription (what the subscribe calls return). */
export type Unsubscribe = () => void;

export class BourseClient extends NamedCalls {
  readonly clientId: number;
  /** The journal's durable sequence when the session last opened (connect, or a reconnect). */
  durableSequence = 0;
  /** The highest durable sequence heard of on this connection: its Welcome, answers, streams. */
  private heardSequence = 0;
  /** Frames the server refused as Busy (and this client sent again): backpressure felt. */
  busyRefusals = 0;
  private socket: WebSocket;
  /** The member this client is connected to (it moves on failover). */
  private url: string;
  /**
   * Held in a #private field: it holds the API key, and a `private` one is an ordinary
   * property, shown by console.log(client) and util.inspect, and walked by loggers that
   * serialize objects (an audit found the whole key in inspect's output).
   */
  readonly #options: ConnectOptions;
  private readonly closing = new AbortController(); // by close(): ends a reconnect's pause too
  /** Times the connection was opened again after a drop. */
  reconnects = 0;
  /** Frames from the server shorter than they said (each dropped the connection). */
  malformedFrames = 0;
  /** The close code and reason of the last drop it reconnected after ('' : none). */
  lastDrop = '';
  private lastError = '';
  private readonly encoder = new CommandBatchEncoder(commandsPerFrameMax);
  private readonly staging = new Uint8Array(commandsPerFrameMax * commandSizeBytes);
  private readonly stagingU32 = new Uint32Array(this.staging.buffer);
  /** Single commands in flight by client seq (not a Map: see seq-window.ts). */
  private readonly pending = new SeqWindow<Pending>();
  /** A new Promise's functions, left by `capture` (made once, not a closure a command). */
  private readonly captured: Pick<Pending, 'resolve' | 'reject'> = {
    resolve: () => {},
    reject: () => {},
  };
  private readonly capture = (resolve: Pending['resolve'], reject: Pending['reject']): void => {
    this.captured.resolve = resolve;
    this.captured.reject = reject;
  };
  /** submitBatch's batches in flight. */
  private readonly batches = new Batches();
  /** submitStatus's calls in flight, and the names of the last one's fields (input-check.ts). */
  private readonly statusCalls = new StatusCalls();
  private readonly statusKeys: string[] = [];
  private readonly answers = new AnswerRuns(this.pending, {
    answer: (seq, p) => this.answer(seq, p),
    answerBatched: (seq, status, sequence, kind) => this.answerBatched(seq, status, sequence, kind),
  });
  private queued = 0;
  /** Commands of `submit` among the queued ones: they need their events, not only results. */
  private queuedSingles = 0;
  private nextSeq: number;
  private flushScheduled = false;
  private frameSeq = 0;
  /** Journal, topic and book streams: their frames and handlers (streams.ts). */
  private readonly streams = new Streams({
    send: (frame) => this.socket.readyState === WebSocket.OPEN && this.socket.send(frame),
    requestId: () => (this.frameSeq = (this.frameSeq + 1) >>> 0),
    reconnects: () => this.reconnects,
  });
  private readonly subs = this.streams.subs;
  /**
   * Frames not yet fully answered, by request id: their bytes (to send again after a Busy
   * refusal or a reconnect) and the client seqs they carry (to fail them on an Error frame).
   */
  private readonly unanswered = new Map<number, UnansweredFrame>();
  /** Frames refused as Busy, sent again after a backoff (busy-resend.ts). */
  private readonly busy: BusyResend;
  private closed: Error | null = null;
  /** Drops a connection that went silent (a hung or cut-off member): see liveness.ts. */
  private readonly liveness: Liveness;
  private silentUrl = ''; // the member that went silent: tried last when reconnecting
  /** Room in flight, and the submissions waiting for it (backpressure). */
  private readonly admission: Admission;
  /** Single calls of a linked chain, held until it closes (chains.ts). */
  private readonly chain = new ChainGather((members) => this.sendChain(members));

  private constructor(
    socket: WebSocket,
    url: string,
    options: ConnectOptions,
    private readonly states: ConnectionStates,
  ) {
    super();
    this.socket = socket;
    this.url = url;
    this.#options = options;
    this.clientId = options.clientId;
    this.nextSeq = options.firstClientSeq ?? 1;
    this.busy = new BusyResend(
      this.unanswered,
      (bytes) => this.socket.send(bytes),
      () => this.closed !== null,
      options.busyTimeoutMs ?? sdkBusyTimeoutMs,
      (requestId, waitedMs) => this.giveUpBusy(requestId, waitedMs),
    );
    this.admission = new Admission(
      () => this.pending.size + this.batches.commands + this.statusCalls.size,
      options.inFlightMax,
      options.queueMax,
      () => this.closed,
    );
    this.liveness = new Liveness(options.silenceMs ?? sdkSilenceMs, {
      awaiting: () => this.unanswered.size > 0 || this.subs.active,
      others: () => memberUrls(this.url, options).slice(1),
      drop: (silent, why) => {
        this.lastError = why;
        this.silentUrl = this.url;
        silent.terminate(); // a drop: reconnect, resend
      },
    });
    this.attach(socket);
  }

  private attach(socket: WebSocket): void {
    this.liveness.watch(socket);
    socket.on('message', (data: Buffer) => {
      this.liveness.heard++;
      if (frameFits(data)) return this.onFrame(data);
      // Never a throw in the socket's handler: drop the connection, reconnect and resend.
      this.malformedFrames++;
      socket.terminate();
    });
    // A close follows and decides; the error says why a drop happened (lastDrop).
    socket.on('error', (error: Error) => {
      this.lastError = error.message;
    });
    socket.on('close', (code: number, reason: Buffer) => {
      void this.onClose(code, reason.toString());
    });
  }

  /** Opens a session: connects, says Hello, waits for Welcome. */
  static async connect(url: string, options: ConnectOptions): Promise<BourseClient> {
    checkUrl('url', url);
    checkConnectOptions(options); // before any socket: a bad id would act as another client
    const { session, url: found, states } = await openTold(url, options);
    const client = new BourseClient(session.socket, found, options, states);
    client.durableSequence = session.durableSequence;
    client.streams.welcomed(session.flags);
    // By default at most the server's idempotency window in flight: after a drop, every command
    // sent again is still within the outcomes the engine keeps, so it gets its original answer.
    if (options.inFlightMax === undefined) {
      client.admission.inFlightMax = Math.max(1, session.window);
    }
    // A client id used before (a restarted process) goes on after its last seq: from 1 again,
    // its commands would be answered as repeats of its old ones and never applied.
    const next = session.nextSeq;
    if (options.firstClientSeq === undefined && Number.isSafeInteger(next) && next > 0) {
      client.nextSeq = next;
    }
    states.opened(found, 0, undefined, session.cancels);
    return client;
  }

  /** The client seq of the next command: after connect, the server's (ClientError.clientSeq). */
  get nextClientSeq(): number {
    return this.nextSeq;
  }

  /** The connection's state now (see `onState`); a new object at each change. */
  get connection(): ConnectionState {
    return this.states.now;
  }

  /** Drops the connection as a network failure would (tests, drills): it reconnects, resends. */
  dropConnection(): void {
    this.socket.terminate();
  }

  /**
   * Reads the journal from `fromSequence`, like a topic from an offset: past events first, then
   * new ones as they become durable, in order, each once, across reconnects (it goes on where
   * it was). Needs an admin key. Every subscription's `onError` hears a refusal, or its end.
   * A handler that throws (any subscription's) is a process warning, BOURSE_ONEVENTS_THREW,
   * ONBOOK, ONERROR (handler-calls.ts): the client and its other handlers go on.
   */
  subscribeJournal(
    fromSequence: number,
    onEvents: (events: EventRecord[]) => void,
    onError: (error: ClientError) => void = warnRefused,
  ): Unsubscribe {
    checkSubscribe(
      'subscribeJournal',
      'fromSequence',
      fromSequence,
      onEvents,
      this.closed,
      onError,
    );
    return this.streams.journal(fromSequence, onEvents, onError as OnError);
  }

  /** Every durable trade of `instrument`, as it happens. The function returned ends it. */
  subscribeTrades(instrument: number, onEvents: OnEvents, onError?: OnRefusal): Unsubscribe {
    checkSubscribe('subscribeTrades', 'instrument', instrument, onEvents, this.closed, onError);
    return this.streams.topic(StreamKind.Trades, instrument, onEvents, onError as OnError);
  }

  /**
   * Every durable event that names `account` (needs a key for it, or an admin key): from now
   * on, or its stored ones from sequence `from` first. Resumed after a reconnect from the last
   * one delivered: each event once (docs/PROTOCOL.md, "Resuming an account stream").
   * @throws Error with `from` for an account this client streams already (a session has one
   * stream per account: the server would not send the backlog).
   */
  subscribeAccount(
    account: number,
    onEvents: OnEvents,
    onError?: OnRefusal,
    from?: number,
  ): Unsubscribe {
    checkSubscribe('subscribeAccount', 'account', account, onEvents, this.closed, onError);
    // Resumed from here if it delivers nothing (Welcome's sequence sent older events, as new).
    const floor = Math.max(this.durableSequence, this.heardSequence) + 1;
    const start = { from: checkFrom(from), floor };
    return this.streams.topic(StreamKind.Account, account, onEvents, onError as OnError, start);
  }

  /**
   * Views of `instrument`'s book as it changes, conflated by the server (at most one per
   * 10 ms): the current view first, then each changed one. `top` sends only the best bid and
   * offer, and only when they change.
   */
  subscribeBook(
    instrument: number,
    onBook: (book: BookView) => void,
    options: { top?: boolean; onError?: OnRefusal } = {},
  ): Unsubscribe {
    checkSubscribe('subscribeBook', 'instrument', instrument, onBook, this.closed, options);
    const onError = (options.onError ?? warnRefused) as OnError;
    return this.streams.book(instrument, onBook, options.top === true, onError);
  }

  /** Named fields (TransferArgs), or the protocol's (`account`, `target`, `ref`, `quantity`). */
  transfer(f: TransferArgs | Fields): Promise<EventRecord[]> {
    return givenNamed(f, 'from', 'account')
      ? this.named('transfer', f)
      : this.submit(CommandKind.Transfer, f as Fields);
  }

  /** A named command (named-commands.ts), checked, then sent as `submit` sends. */
  protected named(name: NamedCommand, args: object): Promise<EventRecord[]> {
    let fields: Fields;
    try {
      fields = toFields(name, args);
    } catch (error) {
      return this.chain.refuse(error as Error, args);
    }
    return this.submit(namedCommands[name][0], fields);
  }

  /**
   * `submitBatch` of transfers, by named fields (TransferArgs: each mapped, a little slower)
   * or by the protocol's.
   */
  transferBatch(list: readonly TransferArgs[] | readonly Fields[]): Promise<BatchResult> {
    // Anything but an array goes on to submitBatch, which refuses it.
    const named = Array.isArray(list) && list.length > 0 && givenNamed(list[0], 'from', 'account');
    const fields = named ? namedList('transfer', list) : list;
    if (fields instanceof Error) return Promise.reject(fields);
    return this.submitBatch(CommandKind.Transfer, fields as readonly Fields[]);
  }

  /** Named fields (OrderArgs: side, instrument, price or market...), or the protocol's. */
  placeOrder(f: OrderArgs | Fields): Promise<EventRecord[]> {
    return givenNamed(f, 'side') || 'instrument' in f || 'market' in f || noFields(f)
      ? this.named('placeOrder', f)
      : this.submit(CommandKind.PlaceOrder, f);
  }

  /** Named fields (`account`, `order`), or the protocol's (`account`, `target`). */
  cancel(f: CancelArgs | Fields): Promise<EventRecord[]> {
    return givenNamed(f, 'order', 'target')
      ? this.named('cancel', f)
      : this.submit(CommandKind.CancelOrder, f as Fields);
  }

  /**
   * Cancels every resting order of `account` (of `instrument` only, if given) placed before
   * the call's first round, in as many CancelAll rounds as it takes; resolves with every
   * round's events (cancel-all.ts).
   */
  cancelAll(f: CancelAllArgs): Promise<EventRecord[]> {
    return this.cancelRounds('cancelAll', f);
  }

  /**
   * Cancels every resting order this client id placed, on any account or instrument (not
   * those of other clients on the same accounts), as `cancelAll` does: CancelClientOrders
   * rounds naming this client id, which any key may send.
   */
  cancelMyOrders(): Promise<EventRecord[]> {
    return this.cancelRounds('cancelClientOrders', { client: this.clientId });
  }

  /** `cancelMyOrders` of another client id: needs an admin key (an operator's clean-up). */
  cancelClientOrders(f: CancelClientOrdersArgs): Promise<EventRecord[]> {
    return this.cancelRounds('cancelClientOrders', f);
  }

  /** The rounds of a cancelAll or cancelClientOrders, from `next` if given. */
  private cancelRounds(
    name: 'cancelAll' | 'cancelClientOrders',
    f: object,
  ): Promise<EventRecord[]> {
    let fields: Fields;
    try {
      fields = toFields(name, f);
    } catch (error) {
      return this.chain.refuse(error as Error, f);
    }
    const kind = namedCommands[name][0];
    const send = (target: number, aux: number): Promise<EventRecord[]> =>
      this.submit(kind, { ...fields, target, aux });
    return cancelRounds(send, fields.target ?? 0);
  }

  /** Named fields (`account`, `order`, `price`, `quantity`), or the protocol's. */
  amend(f: AmendArgs | Fields): Promise<EventRecord[]> {
    return givenNamed(f, 'order', 'target')
      ? this.named('amend', f)
      : this.submit(CommandKind.AmendOrder, f as Fields);
  }

  /**
   * Any command kind, including the admin ones (create account, deposit, add asset...).
   * Not an async function: with room in flight, a command costs one promise, not two (the
   * async function's own and the answer's), which showed in a client's profile.
   */
  submit(kind: CommandKindValue, fields: Fields): Promise<EventRecord[]> {
    const error = commandError(kind, fields, -1, true);
    if (error !== null) return this.chain.refuse(error, fields);
    if (this.chain.open || isLinked(fields)) return this.chain.add(kind, fields);
    // The usual case goes straight on: admit's closure was an object a command.
    if (this.admission.fits(1)) return this.enqueue(kind, fields);
    return this.admission.admit(1, () => this.enqueue(kind, fields));
  }

  /**
   * A command whose caller wants its outcome only: `onStatus(error, status, tag, sequence)` is
   * called once with its status and head event's sequence (as submitBatch's), or with the
   * ClientError that cut it off; `tag` is told back, to say which call it was. No promise, no
   * events and no object per command: the cheapest single call (bench:e2e's open loop: 5.4 µs
   * of client CPU a command, against 7.2 for `transfer`, bench/RESULTS.md). Sent, acked, and
   * sent again after a reconnect as `submit`'s are. `fields` are read during the call: the
   * object may be reused at once.
   * @throws TypeError or RangeError for a bad command, handler or tag (nothing sent).
   */
  submitStatus(kind: CommandKindValue, fields: Fields, onStatus: OnStatus, tag = 0): void {
    const error = statusCallError(kind, fields, onStatus, tag, this.statusKeys);
    if (error !== null) throw error;
    if (this.chain.open) this.chain.abandon('a status call was made before it closed');
    if (this.admission.fits(1)) return this.stageStatus(kind, fields, onStatus, tag);
    const copy = { ...fields }; // it waits for room in flight, the caller's object may change
    const go = (): Promise<void> => {
      this.stageStatus(kind, copy, onStatus, tag);
      return Promise.resolve();
    };
    this.admission.admit(1, go).catch((cut: ClientError) => callStatus(onStatus, cut, -1, tag, 0));
  }

  private stageStatus(kind: number, fields: Fields, onStatus: OnStatus, tag: number): void {
    this.statusCalls.add(this.stage(kind, fields), onStatus, tag);
  }

  /** The longest chain that can go: in flight at once, and in one frame. */
  private get chainMax(): number {
    return Math.min(this.admission.inFlightMax, commandsPerFrameMax);
  }

  /** A closed chain of single calls: one submission, staged in one frame. */
  private sendChain(members: ChainMember[]): void {
    const n = members.length;
    const fail = (error: Error): void => members.forEach((m) => m.reject(error));
    const max = this.chainMax;
    if (n > max) return fail(chainTooLong('', n, 'calls', max));
    const go = (): Promise<void> => {
      if (this.queued + n > commandsPerFrameMax) this.flush();
      for (const m of members) this.enqueue(m.kind, m.fields).then(m.resolve, m.reject);
      return Promise.resolve();
    };
    this.admission.admit(n, go).catch(fail);
  }

  /**
   * Many commands of one kind for one promise: it resolves once every one is answered, with
   * each command's status and head-event sequence (BatchResult), in the order given. Commands
   * sent in the same tick share frames with any others. A batch waits until it fits in flight
   * (inFlightMax); a larger one goes as consecutive parts of a quarter of it, in order, nothing
   * else between them. It is rejected as a whole if a frame carrying it is refused as a whole,
   * or if the connection is lost for good; what was applied is in the journal.
   */
  submitBatch(kind: CommandKindValue, list: readonly Fields[]): Promise<BatchResult> {
    if (!Array.isArray(list))
      return Promise.reject(new TypeError(`list: an array, not ${shown(list)}`));
    let chained = false;
    const keys: string[] = [];
    for (let i = 0; i < list.length; i++) {
      const error = batchCommandError(kind, list, i, keys);
      if (error !== null) return Promise.reject(error);
      chained ||= isLinked(list[i]);
    }
    if (this.chain.open) this.chain.abandon('a batch was submitted before it closed');
    if (chained) return this.submitChained(kind, list);
    if (list.length <= this.admission.inFlightMax) {
      return this.admission.admit(list.length, () => this.enqueueBatch(kind, list));
    }
    // Parts of a quarter of the window: several in flight at once, not one and a wait.
    const part = Math.max(1, Math.floor(this.admission.inFlightMax / 4));
    const counts = Array.from({ length: Math.ceil(list.length / part) }, (_, i) =>
      Math.min(part, list.length - i * part),
    );
    const go = (i: number): Promise<BatchResult> =>
      this.enqueueBatch(kind, list.slice(i * part, i * part + counts[i])); // checked, whole
    return this.admission.admitInParts(counts, go).then(joinResults);
  }

  /** submitBatch of a list with linked chains: each in one frame, none left open at its end. */
  private submitChained(kind: CommandKindValue, list: readonly Fields[]): Promise<BatchResult> {
    const last = list.length - 1;
    if (isLinked(list[last])) {
      return Promise.reject(batchEndsInChain(last));
    }
    const max = this.chainMax;
    const counts = chainParts(list, Math.max(1, Math.floor(max / 4)), max);
    if (counts instanceof Error) return Promise.reject(counts);
    const starts = [0];
    for (const n of counts) starts.push(starts[starts.length - 1] + n);
    const go = (i: number): Promise<BatchResult> => {
      if (this.queued + counts[i] > commandsPerFrameMax) this.flush(); // its chains in one frame
      return this.enqueueBatch(kind, list.slice(starts[i], starts[i] + counts[i]));
    };
    return this.admission.admitInParts(counts, go).then(joinResults);
  }

  private enqueueBatch(kind: CommandKindValue, list: readonly Fields[]): Promise<BatchResult> {
    if (list.length === 0) return Promise.resolve(noResults(this.nextSeq));
    const done = this.batches.add(this.nextSeq, list.length);
    for (let i = 0; i < list.length; i++) this.stage(kind, list[i]);
    return done;
  }

  /** Writes the command into this tick's frame; the promise settles with its answer. */
  private enqueue(kind: CommandKindValue, fields: Fields): Promise<EventRecord[]> {
    const clientSeq = this.stage(kind, fields);
    this.queuedSingles++;
    const promise = new Promise(this.capture);
    const resolve = this.captured.resolve;
    const reject = this.captured.reject;
    this.pending.set(clientSeq, { seq: clientSeq, resolve, reject, events: [], frame: 0 });
    return promise;
  }

  /** Writes a command into this tick's frame (sending a full one first); its client seq. */
  private stage(kind: CommandKindValue, fields: Fields): number {
    if (this.queued === commandsPerFrameMax) this.flush();
    const clientSeq = this.nextSeq++;
    writeCommandOf(this.stagingU32, this.queued * 16, kind, this.clientId, clientSeq, fields);
    this.queued++;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => this.flush());
    }
    return clientSeq;
  }

  /** Sends the commands queued in this tick as one frame. */
  private flush(): void {
    this.flushScheduled = false;
    if (this.queued === 0) return;
    const requestId = (this.frameSeq = (this.frameSeq + 1) >>> 0);
    const flags = this.queuedSingles === 0 ? CommandsFlag.ResultsOnly : 0;
    const frame = this.encoder.encode(this.staging, this.queued, requestId, flags);
    const bytes = Buffer.from(frame);
    const first = this.nextSeq - this.queued;
    const last = this.nextSeq - 1;
    const unanswered = { bytes, first, last, left: this.queued, sent: false };
    this.unanswered.set(requestId, unanswered);
    for (let seq = first; seq <= last; seq++) {
      const p = this.pending.get(seq);
      if (p !== undefined) p.frame = requestId;
      else if (!this.statusCalls.setFrame(seq, requestId)) this.batches.setFrame(seq, requestId);
    }
    this.queued = 0;
    this.queuedSingles = 0;
    this.transmit(unanswered);
  }

  private transmit(frame: UnansweredFrame): void {
    if (this.socket.readyState !== WebSocket.OPEN) return;
    this.socket.send(frame.bytes);
    frame.sent = true;
  }

  private onFrame(data: Buffer): void {
    const type = data.readUInt8(0);
    if (data.readUInt8(1) !== protocolVersion) return;
    this.heardSequence = lastSequenceOf(data, this.heardSequence);
    if (type === FrameType.Error) return this.onError(data);
    if (this.streams.onFrame(type, data)) return; // a Book, or where a stream starts
    if (type === FrameType.Results) return this.answers.readResults(data);
    if (type !== FrameType.Events) return;
    const requestId = data.readUInt32LE(4);
    if (this.streams.onEvents(requestId, data)) return;
    // Answers carry request id 0. Any other is a stream this client ended (its last frames on
    // the way): read as answers, another client's events could settle this one's commands.
    if (requestId !== 0) return;
    this.answers.read(data);
  }

  private answerBatched(seq: number, status: number, sequence: number, kind: number): void {
    let frame = this.statusCalls.answer(seq, status, sequence);
    if (frame < 0) frame = this.batches.answer(seq, status, sequence, kind);
    if (frame < 0) return;
    this.busy.answered();
    countAnswer(this.unanswered, frame);
    this.admission.drain();
  }

  /** A frame refused as a whole: fail each of its commands with the server's reason. */
  private onError(data: Buffer): void {
    const requestId = data.readUInt32LE(4);
    const code = data.readUInt16LE(frameHeaderBytes);
    const text = data.subarray(frameHeaderBytes + 4).toString('utf8');
    if (this.subs.refuse(requestId, new ClientError(code, text))) return;
    // Any frame not yet answered, however old: a frame forgotten here (an earlier bounded list
    // of the last 1,024) was never sent again after Busy, and the server, which takes a
    // client's refused frames back in order only, refused every later frame for ever.
    const frame = this.unanswered.get(requestId);
    if (frame === undefined) return;
    if (code === FrameError.Busy) {
      this.busyRefusals++;
      return this.busy.refuse(requestId);
    }
    this.unanswered.delete(requestId);
    const error = frameRefused(code, text, frame.last - frame.first + 1);
    failFrame(frame, error, this.pending, this.batches, this.statusCalls);
    this.admission.drain(); // their room in flight is free
  }

  /**
   * The frame `requestId` was refused as Busy for busyTimeoutMs: it and every later frame end,
   * never sequenced, and the next calls take their client seqs (busy-give-up.ts).
   */
  private giveUpBusy(requestId: number, waitedMs: number): void {
    if (this.queued > 0) this.flush(); // staged after the refused frame: refused as well
    const from = (this.unanswered.get(requestId) as UnansweredFrame).first;
    const error = busyTimedOut(waitedMs, from, this.nextSeq - 1);
    const frames = takeFramesFrom(this.unanswered, from);
    for (const frame of frames)
      failFrame(frame, error, this.pending, this.batches, this.statusCalls);
    this.pending.rewind(from);
    this.statusCalls.rewind(from);
    this.batches.cut(from);
    this.nextSeq = from;
    this.admission.drain();
  }

  private answer(clientSeq: number, p: Pending): void {
    this.pending.delete(clientSeq);
    this.busy.answered(); // the server is taking commands again
    countAnswer(this.unanswered, p.frame);
    p.resolve(p.events);
    this.admission.drain();
  }

  /**
   * A drop (not a close the server chose for a reason, nor ours) reconnects and sends again
   * every frame not yet answered, in order: the engine applies each command once and answers a
   * repeat with its original outcome. Other closes fail whatever is pending.
   */
  private async onClose(code: number, reason: string): Promise<void> {
    if (!this.closing.signal.aborted && (code < 4000 || code > 4999)) {
      this.lastDrop = `${code} ${reason} ${this.lastError}`.trim();
      this.states.lost(this.url, code, `${reason} ${this.lastError}`.trim());
      this.lastError = '';
      const closed = this.closing.signal;
      const tried = { last: '' };
      const back = await reopenSession(this.url, this.silentUrl, this.#options, closed, tried);
      this.silentUrl = '';
      // Closed meanwhile: close() answered what was pending. Reconnecting then sent it again.
      if (this.closing.signal.aborted) return;
      if (back !== null) {
        this.flush(); // what this tick staged goes into a frame, unsent (the socket is down)
        const foreign = back.session.nextSeq > lowestUnsent(this.unanswered, this.nextSeq);
        this.url = back.url;
        this.durableSequence = back.session.durableSequence;
        this.streams.welcomed(back.session.flags);
        this.heardSequence = 0; // another member's sequences may not be this one's
        this.socket = back.session.socket;
        this.attach(back.session.socket);
        this.answers.reset(); // a command cut between two frames is answered again (a repeat)
        this.reconnects++;
        if (foreign) this.yieldSeqs(back.session.nextSeq);
        else this.resendAll();
        const ask = this.streams.subscribe.bind(this.streams);
        const gaps = this.subs.resume(ask, this.durableSequence);
        const told = (): void => this.#options.onReconnect?.(back.url, gaps);
        this.states.opened(back.url, this.reconnects, told, back.session.cancels);
        return;
      }
      if (tried.last !== '')
        reason = `${reason === '' ? '' : `${reason}; `}last try: ${tried.last}`;
    }
    this.fail(code, reason);
  }

  private resendAll(): void {
    const ids = [...this.unanswered.keys()].sort((a, b) => a - b);
    this.busy.clear();
    for (const id of ids) this.transmit(this.unanswered.get(id) as UnansweredFrame);
  }

  /**
   * Another connection used this client id while this one was down (the server has seqs this
   * client never sent): a resend would get its outcomes, as repeats. Fail all; go on from `next`.
   */
  private yieldSeqs(next: number): void {
    this.rejectAll(foreignErrors(this.clientId, next));
    this.unanswered.clear();
    this.busy.clear();
    this.nextSeq = next;
  }

  private fail(code: number, reason: string): void {
    this.liveness.stop();
    // Say of each command whether it left, so a caller knows what to check.
    const errors = closedErrors(code, reason, this.closing.signal.aborted);
    this.closed = errors.closed;
    this.states.closed(code, reason, this.closing.signal.aborted);
    this.rejectAll(errors);
    if (errors.ended !== null) this.subs.endAll(errors.ended); // else each ended unheard
  }

  private rejectAll(errors: CutOff): void {
    this.answers.reset();
    rejectPending(this.pending, this.unanswered, errors);
    this.statusCalls.failAll(errors, this.unanswered);
    this.batches.failAll(errors.sent); // a batch may have been partly sent
    this.admission.drain();
  }

  /**
   * Closes the session at once. Commands not answered yet are rejected, each saying whether it
   * was sent (and so may have been applied); await their promises first to close after them.
   */
  close(): Promise<void> {
    this.closing.abort();
    this.closed ??= new ClientError(1000, 'closed by the client: not sent, not applied');
    this.states.closed(1000, 'closed by the client', true);
    this.queued = 0; // staged this tick: never sent (their promises say so)
    return new Promise((resolve) => {
      // Dropped and reconnecting (or failed): nothing more will close, so answer the pending now.
      if (this.socket.readyState === WebSocket.CLOSED) {
        this.fail(1000, 'bye');
        return resolve();
      }
      this.socket.once('close', () => resolve());
      this.socket.close(1000, 'bye');
    });
  }
}
