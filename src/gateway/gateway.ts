/**
 * The gateway: binary WebSocket sessions in front of the input ring, answered from the durable
 * side of the output ring (docs/PROTOCOL.md).
 *
 *   client ──Hello──► session (client id)        client ◄──Events── durable events of its
 *   client ──Commands─► verify ─► copy each 64-byte Command into an input-ring slot (the
 *                       session's client id written over the frame's) ─► publish once per frame
 *   client ◄──Results── for commands of ResultsOnly frames: one 24-byte record each, no events
 *
 * A command is answered only once its events are durable: the events come from the publisher,
 * which runs behind the journal writer. Frames are copied once, into the ring, before the
 * callback returns (uWS reuses the message's memory).
 */
import {
  commandSizeBytes,
  commandsPerFrameMax,
  eventSizeBytes,
  eventsPerFrameMax,
  deliveryRunsMax,
  refusedFramesMax,
  sessionBackpressureDropBytes,
  readSessionsPerClientMax,
  sessionIdleTimeoutSeconds,
  wsMessageBytesMax,
} from '../constants.js';
import { assert } from '../stdx/assert.js';
import type { RecordBuffer } from '../stdx/records.js';
import { CommandFlag, CommandWord } from '../protocol/command-layout.js';
import { ListenError } from './listen-error.js';
import { EventFlag, EventWord } from '../protocol/event-layout.js';
import {
  BatchFault,
  CloseCode,
  CommandsFlag,
  EventsFlag,
  FrameError,
  FrameType,
  frameHeaderBytes,
  protocolVersion,
  StreamKind,
  topicRequestIdBase,
  verifyCommandBatch,
  writeHeader,
  type BatchSpan,
} from '../protocol/frames.js';
import type { RingBuffer } from '../ring/ring-buffer.js';
import {
  listenExclusive,
  releasingApp,
  uws,
  type HttpRequest,
  type HttpResponse,
  type TemplatedApp,
  type us_listen_socket,
  type us_socket_context_t,
  type WebSocket,
} from './uws.js';
import { accountRefusal, commandRefusal, type Grant, type KeyRing } from './api-keys.js';
import { HttpKeys } from './http-keys.js';
import { mountHttp, notPrimary, sessionOfPath, type JournalQueries } from './http.js';
import { JournalStreams, journalPollMs } from './journal-stream.js';
import { CatchUpTurns } from './catch-up-turns.js';
import { AccountResumes, resumeFrom } from './account-resumes.js';
import { sendError } from './error-frame.js';
import { TopicsTail } from './topics-tail.js';
import { accountKnown, BookTopics, mountReads, type BookKind, type StateReads } from './reads.js';
import { Topics } from './topics.js';
import {
  accountTopicOf,
  asksAccountInFrames,
  countTopic,
  joinAccountTopic,
  accountFlags,
  sayAccountStart,
  joinTradesTopic,
  leaveAll,
  leaveTopic,
  marketOf,
  PageTrades,
  tooMany,
  topicRefusal,
} from './session-subscriptions.js';
import { Dashboard } from './dashboard/dashboard.js';
import {
  disconnectClientId,
  writeCommand,
  type CommandFields,
} from '../protocol/command-writer.js';
import { readEvent, type EventRecord } from '../protocol/event-reader.js';
import { readU64 } from '../stdx/records.js';
import { ResultWord, writeResult } from '../protocol/result-layout.js';
import { ResultRanges } from './result-ranges.js';
import { ClientSeqs, frameClientSeq } from './client-seqs.js';
import { closeIfSlow, SlowConsumerSweep } from './slow-consumers.js';
import { Admission, answerRefusal } from './admission.js';
import { hideMakerOf, hideMakers } from './trade-privacy.js';
import { Login, type LoginFailures } from './login.js';
import { copyCommands } from './command-copy.js';
import { DeliveryRuns } from './delivery-runs.js';
import { CancelOnDisconnect, type GatewayLog } from './cancel-on-disconnect.js';
import { noCancels } from './cancel-reports.js';
import { welcomeBodyBytes, writeWelcomeCancels } from '../protocol/welcome.js';
import { idFree } from './silent-holder.js';
import { keyClosing, newSession, type Session } from './gateway-session.js';
import { noteRefused, refusedTaken, refusedTurn } from './refused-frames.js';
import { frameRefusal } from './frame-refusal.js';
import { GatewayCounts } from './gateway-counts.js';

export { ListenError };
export type { NodeRole, ReadyUse } from './node-role.js';
import type { NodeRole } from './node-role.js';

// Every Events frame (the largest the gateway sends) stays below uWS's faulty path.
const eventsFrameBytesMax = frameHeaderBytes + 8 + eventsPerFrameMax * eventSizeBytes;
assert(eventsFrameBytesMax <= wsMessageBytesMax, 'gateway: an Events frame fits one message');

/** Where commands go: the producer side of the input ring. */
export interface CommandSink {
  readonly ring: RingBuffer;
  hasRoom(n: number): boolean;
  /** Word offset of the next free slot (after hasRoom). */
  claim(): number;
  commit(): void;
  publish(): void;
}

/** Where durable events come from. */
export interface DurableEvents {
  listen(listener: (records: RecordBuffer, slot: number, count: number) => void): void;
}

/** Open WebSocket connections by kind (bourse_gateway_connections). */
export interface GatewayConnections {
  /** Logged in to send commands. */
  session: number;
  /** Logged in on the read path (/read): subscriptions only. */
  read: number;
  /** Open on the binary protocol's paths, not logged in yet. */
  login: number;
  /** Dashboard pages (/dashboard/live). */
  dashboard: number;
}

export interface GatewayOptions {
  host: string;
  port: number;
  sink: CommandSink;
  events: DurableEvents;
  /** Journal reads and metrics for HTTP; its durable sequence goes into Welcome frames. */
  journal: JournalQueries;
  /** API keys; null runs without authentication (every session is admin). */
  keys: KeyRing | null;
  /** The read model for balance, order and book queries and book streams (null: none). */
  reads: StateReads | null;
  /** Outcomes the engine keeps per client (told to clients in Welcome: their in-flight cap). */
  idempotencyWindow: number;
  /** A standby serves reads only: sessions and commands are refused with 503. */
  role: NodeRole;
  /** Lines for the operator (cancels on disconnect); none when absent. */
  log?: GatewayLog;
  /** The grace after taking over (ms; cancel-on-disconnect.ts): cancelOnDisconnectGraceMs. */
  cancelGraceMs?: number;
  /** Refused logins: counted by reason, summed up in the log (login-failures.ts). */
  loginFailures: LoginFailures;
}

export class Gateway {
  private readonly app: TemplatedApp;
  private readonly sink: CommandSink;
  private readonly sessions = new Map<number, WebSocket<Session>>();
  /** Read-only sessions (path /read): subscriptions only, no client id's place. */
  private readonly readers = new Set<WebSocket<Session>>();
  /** Closes sessions that read too slowly, pub/sub included (slow-consumers.ts). */
  private readonly slowSweep = new SlowConsumerSweep<Session>(() => this.allSessions());
  /** Where each client id left off (Welcome's next client seq). */
  private readonly clientSeqs: ClientSeqs;
  private readonly span: BatchSpan = { fault: BatchFault.None, start: 0, count: 0 };
  /** Who may open a socket, and how long it may take to log in. */
  private readonly admission = new Admission<Session>(() => this.options.loginFailures);
  /** One outgoing Events frame per session, built here and sent at the end of each run. */
  private readonly outgoing = new Uint8Array(eventsFrameBytesMax);
  private readonly outgoingView = new DataView(this.outgoing.buffer);
  /** The same for Results frames: header, count, reserved, then 24-byte records. */
  private readonly outgoingResults = new Uint32Array(
    (frameHeaderBytes + 8) / 4 + eventsPerFrameMax * ResultWord.size,
  );
  private readonly outgoingResultsView = new DataView(this.outgoingResults.buffer);
  /** A delivery's answer runs, sent session by session, corked (delivery-runs.ts). */
  private readonly runs = new DeliveryRuns<WebSocket<Session>>(
    deliveryRunsMax,
    (id) => this.sessions.get(id),
    (ws, records, from, n, more) => this.sendAnswers(ws, records, from, n, more),
  );
  private listenSocket: us_listen_socket | null = null;
  /** HTTP commands waiting for their durable events, by "clientId/clientSeq". */
  private readonly httpPending = new Map<string, (events: EventRecord[]) => void>();
  private readonly streams: JournalStreams<Session>;
  private readonly topics: Topics;
  private readonly tail: TopicsTail;
  /**
   * Journal streams and account resumes catching up from LMDB: one budget of events a turn of
   * the event loop for both (each had its own: together, twice the share meant).
   */
  private readonly catchUps = new CatchUpTurns(journalPollMs);
  private readonly resumes = new AccountResumes<Session>(
    () => this.options.journal,
    (ws, account) => this.joinAccount(ws, account),
    this.catchUps,
  );
  private readonly books: BookTopics | null = null;
  private readonly dashboard: Dashboard;
  /** Sessions' orders canceled when they are lost (cancel-on-disconnect.ts). */
  readonly cancels: CancelOnDisconnect;
  /** HTTP requests' keys, a refused one counted as a refused login. */
  private readonly httpKeys = new HttpKeys(
    () => this.options.keys,
    () => this.options.loginFailures,
  );
  private readonly login = new Login<Session>(
    () => this.options,
    (ws, requestId, clientId, grant) => this.welcome(ws, requestId, clientId, grant),
  );
  /** Closes by code, Busy answers and refused frames, for /metrics (gateway-counts.ts). */
  readonly counts = new GatewayCounts();
  port = -1;

  constructor(private readonly options: GatewayOptions) {
    this.sink = options.sink;
    // Where live publishing starts (journal streams and the topics' tail hand over there): 0 on
    // a single node, null on a standby (nothing published), the promotion sequence if promoted.
    const handOver = (): number | null =>
      options.role.handOver?.() ?? (options.role.accepting() ? 0 : null);
    this.clientSeqs = new ClientSeqs(options.reads);
    this.cancels = this.newCancels(options);
    this.streams = new JournalStreams<Session>(
      options.journal,
      (ws, requestId, events, n) => this.sendEvents(ws, events, n, 0, requestId, false),
      this.catchUps,
      handOver,
    );
    this.app = releasingApp(); // a stopped gateway's handlers are not kept
    this.topics = new Topics(this.app);
    // Before the binary protocol's '/*', so that its routes are matched first.
    this.dashboard = new Dashboard(this.app, {
      ...options, // its role, journal, reads and durable events
      trades: new PageTrades(this.topics, () => this.startTail()),
    });
    this.app.ws<Session>('/*', {
      maxPayloadLength: frameHeaderBytes + 64 + commandsPerFrameMax * commandSizeBytes,
      // Past this uWS drops sends, and skips pub/sub subscribers silently: we close a slow
      // client ourselves, at a lower limit, with 4008, rather than let it miss events.
      maxBackpressure: sessionBackpressureDropBytes,
      closeOnBackpressureLimit: 0,
      idleTimeout: sessionIdleTimeoutSeconds,
      sendPingsAutomatically: true,
      compression: uws().DISABLED,
      upgrade: (res, req, context) => this.onUpgrade(res, req, context),
      open: (ws) => this.admission.opened(ws),
      message: (ws, message, isBinary) => this.onMessage(ws, message, isBinary),
      pong: (ws) => ws.getUserData().heard++,
      close: (ws, code) => this.onClose(ws, code),
    });
    const keys = this.httpKeys;
    const may = keys.accountReadRefusal.bind(keys);
    if (options.reads !== null) {
      mountReads(this.app, options.reads, may, options.role);
      this.books = new BookTopics(this.app, options.reads);
    }
    mountHttp(this.app, options.journal, options.role, {
      submit: (token, fields, answer, res) => this.submitHttp(token, fields, answer, res),
      pending: () => this.httpPending.size,
      journalReadRefusal: keys.journalReadRefusal.bind(keys),
      development: () => this.options.keys === null,
      accountReadRefusal: may,
      accountKnown: (account) => accountKnown(options.reads, account),
    });
    this.tail = new TopicsTail(
      options.journal,
      () => options.journal.durableSequence(),
      handOver,
      (records, slot, count) => this.publishTopics(records, slot, count),
      // Streams that can no longer follow the journal end, so that clients go elsewhere.
      (error) => {
        const why = `journal read failed: ${String(error)}`.slice(0, 120);
        for (const ws of [...this.allSessions()]) ws.end(1011, why);
      },
    );
    options.events.listen((records, slot, count) => this.deliver(records, slot, count));
  }

  /** Cancels on disconnect for this gateway's sessions (after clientSeqs: its seq floor). */
  private newCancels(options: GatewayOptions): CancelOnDisconnect {
    return new CancelOnDisconnect(
      options.sink,
      () => options.role.accepting(),
      options.log ?? (() => {}),
      () => Math.max(0, this.clientSeqs.next(disconnectClientId) - 1),
      () => this.sessions.values(),
      (id) => this.sessions.get(id)?.getUserData(),
      options.cancelGraceMs,
    );
  }

  /** A WebSocket asked for: a session, logged in by its first frame (Hello). */
  private onUpgrade(res: HttpResponse, req: HttpRequest, context: us_socket_context_t): void {
    const refused = this.admission.upgradeRefusal(this.sessionCount(), res, req, this.options);
    if (refused !== null) {
      const wait = refused.retryAfterMs;
      if (wait !== undefined) this.cancels.loginShed(wait, refused.full === true);
      return answerRefusal(res, refused);
    }
    const readOnly = sessionOfPath(res, req.getUrl());
    if (readOnly === null) return;
    if (!readOnly && !this.options.role.accepting()) return notPrimary(res, this.options.role);
    res.upgrade<Session>(
      newSession(readOnly),
      req.getHeader('sec-websocket-key'),
      req.getHeader('sec-websocket-protocol'),
      req.getHeader('sec-websocket-extensions'),
      context,
    );
  }

  /** A socket closed: its streams and its session go (a newer session of its client stays). */
  private onClose(ws: WebSocket<Session>, code: number): void {
    this.counts.closed(code);
    this.streams.drop(ws);
    this.resumes.drop(ws);
    leaveAll(ws, this.topics, this.books); // uWS drops its topics itself
    const clientId = ws.getUserData().clientId;
    this.cancels.closed(ws.getUserData(), clientId, code);
    this.admission.closed(ws, this.readers.delete(ws) ? clientId : null);
    if (clientId !== 0 && this.sessions.get(clientId) === ws) this.sessions.delete(clientId);
  }

  /** Starts listening; resolves with the port. @throws ListenError when it cannot be bound. */
  async listen(): Promise<number> {
    await this.clientSeqs.load();
    this.slowSweep.start();
    return new Promise((resolve, reject) => {
      listenExclusive(this.app, this.options.host, this.options.port, (socket) => {
        if (socket === false) {
          reject(new ListenError(`cannot listen on ${this.options.host}:${this.options.port}`));
          return;
        }
        this.listenSocket = socket;
        this.port = uws().us_socket_local_port(socket);
        if (this.options.role.accepting()) this.tookOver(); // a single node's start or restart
        resolve(this.port);
      });
    });
  }

  /** Stops listening and closes every session (1001; a failed node says why, with 1011). */
  close(code = 1001, reason = 'server shutting down'): void {
    if (this.listenSocket !== null) uws().us_listen_socket_close(this.listenSocket);
    this.listenSocket = null;
    this.clientSeqs.close();
    this.slowSweep.stop();
    this.tail.stop();
    this.admission.stop();
    this.options.loginFailures.stop(); // this interval's line now, no timer left
    this.dashboard.close();
    this.cancels.stop(); // before the sessions close: a node that stops cancels nothing
    for (const ws of [...this.allSessions()]) ws.end(code, reason);
    this.sessions.clear();
    this.readers.clear();
    this.app.close(); // kept-alive HTTP too: a stopped node served them (cluster-fence.test)
  }

  private onMessage(ws: WebSocket<Session>, message: ArrayBuffer, isBinary: boolean): void {
    if (!isBinary) return ws.end(CloseCode.TextFrame, 'binary frames only');
    const view = new DataView(message);
    if (message.byteLength < frameHeaderBytes) return ws.end(CloseCode.Malformed, 'short frame');
    if (view.getUint8(1) !== protocolVersion) {
      return ws.end(CloseCode.VersionUnsupported, `protocol version ${protocolVersion} only`);
    }
    const type = view.getUint8(0);
    const session = ws.getUserData();
    session.heard++;
    if (type === FrameType.Hello) return this.login.onHello(ws, view);
    if (type === FrameType.Answer) return this.login.onAnswer(ws, view);
    if (session.clientId === 0) return ws.end(CloseCode.HelloRequired, 'send Hello first');
    if (type === FrameType.Commands && session.readOnly) {
      const text = 'read-only session: send commands on the primary';
      return sendError(ws, view.getUint32(4, true), FrameError.ReadOnly, text);
    }
    if (type === FrameType.Commands) return this.onCommands(ws, view);
    if (type === FrameType.Subscribe) return this.onSubscribe(ws, view);
    if (type === FrameType.Unsubscribe) return this.onUnsubscribe(ws, view);
    ws.end(CloseCode.UnknownType, `unknown frame type ${type}`);
  }

  /** Opens the session of an authenticated client (or refuses it: its id is busy, 4007/4009). */
  private welcome(ws: WebSocket<Session>, requestId: number, clientId: number, grant: Grant): void {
    const session = ws.getUserData();
    // A read-only session sends no commands, so it holds no client id's place: a client may
    // read on its own id beside its command session, and results go to the command session.
    if (!session.readOnly && !idFree(this.sessions, clientId, this.options.log)) {
      const why = `client id ${clientId} is connected already`;
      return this.login.refuse(ws, 'client_id_taken', CloseCode.ClientIdInUse, why);
    }
    if (!this.admission.loggedIn(ws, session.readOnly ? clientId : null)) {
      const why = `client id ${clientId} has ${readSessionsPerClientMax} read sessions open`;
      return this.login.refuse(ws, 'read_sessions_full', CloseCode.TooManyReadSessions, why);
    }
    session.clientId = clientId;
    session.grant = grant;
    if (session.readOnly) this.readers.add(ws);
    else this.sessions.set(clientId, ws);
    const reply = new DataView(new ArrayBuffer(frameHeaderBytes + welcomeBodyBytes));
    const took = this.cancels.opened(session, clientId) | accountFlags(session.helloFlags);
    writeHeader(reply, 0, FrameType.Welcome, requestId, took);
    reply.setUint32(frameHeaderBytes, clientId, true);
    reply.setUint32(frameHeaderBytes + 4, this.options.idempotencyWindow, true);
    reply.setFloat64(frameHeaderBytes + 8, this.options.journal.visibleSequence(), true);
    const nextSeq = this.nextClientSeq(session);
    reply.setFloat64(frameHeaderBytes + 16, nextSeq, true);
    // Next seq 1: the state holds no command of the client id, so no order of it to cancel.
    const reports = this.cancels.reports;
    const cancels = session.readOnly ? noCancels : reports.take(clientId, nextSeq !== 1);
    writeWelcomeCancels(reply, frameHeaderBytes, cancels);
    ws.send(reply.buffer, true);
  }

  /** Welcome's next client seq (0: unknown, or a read-only session). */
  private nextClientSeq(session: Session): number {
    return session.readOnly ? 0 : this.clientSeqs.next(session.clientId);
  }

  /** Loads again where each client id left off (a standby about to serve saw events only). */
  reloadClientSeqs(): Promise<void> {
    return this.clientSeqs.load();
  }

  /** The node starts taking commands: the marked clients' grace (cancel-on-disconnect.ts). */
  tookOver(): void {
    // A past (a restart, a standby promoted): the cancels made before are not this node's.
    this.cancels.reports.tookOver(this.options.journal.visibleSequence() > 0);
    this.cancels.takeOver(this.options.reads, (id) => this.sessions.get(id)?.getUserData());
  }

  private *allSessions(): Generator<WebSocket<Session>> {
    yield* this.sessions.values();
    yield* this.readers;
  }

  sessionCount(): number {
    return this.sessions.size + this.readers.size;
  }

  /**
   * Takes the keys of keys.json as it now is; closes (4010) and counts the sessions whose key
   * is off the ring or now grants less (KeyRing.stillGrants), and, with a node's first keys,
   * those opened without one: each must now log in.
   */
  useKeys(keys: KeyRing): number {
    this.options.keys = keys;
    let closed = 0;
    for (const ws of [...this.allSessions()]) {
      const grant = ws.getUserData().grant;
      if (grant === null || keys.stillGrants(grant)) continue;
      ws.end(CloseCode.Unauthorized, keyClosing(keys, grant.keyId));
      closed++;
    }
    return closed;
  }

  /** Open connections by kind, for /metrics (read when scraped). */
  connections(): GatewayConnections {
    const session = this.sessions.size;
    const read = this.readers.size;
    const login = this.admission.pendingCount;
    return { session, read, login, dashboard: this.dashboard.viewerCount() };
  }

  /** An HTTP command: the same checks as a Commands frame, answered once durable. */
  private submitHttp(
    token: string,
    fields: CommandFields,
    answer: (events: EventRecord[]) => void,
    res: HttpResponse,
  ): string | null {
    const grant = this.httpKeys.grant(token, res, fields.clientId);
    if (grant === null) {
      // Counted as refused (http-keys.ts); the caller holding another client's key is told whose.
      const owner = this.options.keys?.verify(token)?.clientId;
      if (owner === undefined) return 'API key refused';
      return `API key refused: it is client ${owner}'s, not client ${fields.clientId}'s`;
    }
    const refusal = commandRefusal(grant, fields.kind, fields.account ?? 0, fields.ref ?? 0);
    if (refusal !== null) return refusal;
    // A session numbers its client's commands itself: an HTTP command under the same id would
    // take one of its seqs, and the session's own command with it would be answered as a repeat.
    if (this.sessions.has(fields.clientId)) {
      return `conflict: client id ${fields.clientId} has a session open; send there instead`;
    }
    const key = `${fields.clientId}/${fields.clientSeq}`;
    if (this.httpPending.has(key)) return 'conflict: a command with this clientSeq is waiting';
    if (!this.sink.hasRoom(1)) return 'busy: send again later';
    writeCommand(this.sink.ring.records.u32, this.sink.claim(), fields);
    this.sink.commit();
    this.sink.publish();
    this.clientSeqs.note(fields.clientId, fields.clientSeq ?? 0);
    this.httpPending.set(key, answer);
    return null;
  }

  /**
   * A subscription: the journal (admin keys only: it holds every client's events), one
   * instrument's trades (anyone), or one account's events (its keys, or admin).
   */
  private onSubscribe(ws: WebSocket<Session>, view: DataView): void {
    const requestId = view.getUint32(4, true);
    if (view.byteLength < frameHeaderBytes + 16) {
      return ws.end(CloseCode.Malformed, 'short Subscribe');
    }
    const kind = view.getUint8(frameHeaderBytes);
    const param = view.getFloat64(frameHeaderBytes + 8, true);
    const grant = ws.getUserData().grant;
    if (!Number.isSafeInteger(param) || param < 0 || requestId === 0 || grant === null) {
      return sendError(ws, requestId, FrameError.BadSubscription, 'bad subscription');
    }
    const forbidden = (text: string): void => sendError(ws, requestId, FrameError.Forbidden, text);
    const refuse = (text: string): void =>
      sendError(ws, requestId, FrameError.BadSubscription, text);
    const from = resumeFrom(view, kind, this.options.journal);
    if (typeof from === 'string') return refuse(from);
    if (kind === StreamKind.Journal) {
      if (!grant.admin) return forbidden('the journal stream needs an admin key');
      // Its frames carry its request id: one of the streams' looked like their frames, and one
      // used twice made two streams that Unsubscribe could not tell apart.
      if (requestId >= topicRequestIdBase || this.streams.has(ws, requestId)) {
        return refuse(`request id ${requestId}: in use, or reserved (0xFFFF0000 and up)`);
      }
      const full = tooMany(ws);
      if (full !== null) return refuse(full);
      ws.getUserData().subscriptions++;
      return this.streams.subscribe(ws, requestId, param);
    }
    const refused = topicRefusal(ws, kind, param, this.options.reads?.instrumentCountMax ?? null);
    if (refused !== null) return refuse(refused);
    // Worded as a command's refusal is: 'not your account' did not say which key rule it was.
    if (kind === StreamKind.Account && !grant.admin && !grant.accounts.has(param)) {
      return forbidden(accountRefusal(param));
    }
    if (from === null) sayAccountStart(ws, requestId, kind, param, () => this.startTail());
    if (kind === StreamKind.Account && this.resumes.holds(ws, param)) return; // held already
    countTopic(ws, kind, param);
    if (kind === StreamKind.Trades) return this.joinTrades(ws, param);
    if (kind === StreamKind.Account) {
      this.startTail();
      if (from === null || ws.isSubscribed(accountTopicOf(ws, param))) {
        return this.joinAccount(ws, param);
      }
      return this.resumes.subscribe(ws, param, from, requestId); // stored events first
    }
    if (this.books?.subscribe(ws, kind as BookKind, param) === true) {
      ws.getUserData().markets.push(marketOf(kind, param));
    }
  }

  /**
   * Ends a stream of this session: the journal subscription the header's request id names, or
   * the trades, account or book topic the body names. Nothing is answered; frames already on
   * their way still come. Ending a stream never subscribed to does nothing.
   */
  private onUnsubscribe(ws: WebSocket<Session>, view: DataView): void {
    if (view.byteLength < frameHeaderBytes + 16) {
      return ws.end(CloseCode.Malformed, 'short Unsubscribe');
    }
    const kind = view.getUint8(frameHeaderBytes);
    const param = view.getFloat64(frameHeaderBytes + 8, true);
    if (kind === StreamKind.Journal) {
      const requestId = view.getUint32(4, true);
      if (this.streams.has(ws, requestId)) ws.getUserData().subscriptions--;
      return this.streams.unsubscribe(ws, requestId);
    }
    if (!Number.isSafeInteger(param) || param < 0) return;
    if (kind === StreamKind.Account) this.resumes.unsubscribe(ws, param);
    leaveTopic(ws, kind, param, this.topics, this.books);
  }

  /** Stream 3, live: the account's topic (at once, or where its resume reaches the seam). */
  private joinAccount(ws: WebSocket<Session>, account: number): void {
    if (joinAccountTopic(ws, account)) this.topics.accountJoined(account, asksAccountInFrames(ws));
  }

  /** The trades and account topics' run, then resumes at their seam (after: none twice). */
  private publishTopics(records: RecordBuffer, slot: number, count: number): void {
    this.topics.publish(records, slot, count);
    this.resumes.deliver(records, slot, count);
  }

  /** A standby publishes nothing: its topics follow the journal. Where their stream goes on. */
  private startTail(): number {
    if (!this.options.role.accepting()) this.tail.start(); // idempotent
    return this.tail.liveStart(this.topics.lastSequence, this.options); // its journal, publisher
  }

  /** Stream 2 (anyone): one instrument's trades (the dashboard's pages: PageTrades). */
  private joinTrades(ws: WebSocket<Session>, instrument: number): void {
    this.startTail();
    if (joinTradesTopic(ws, instrument)) this.topics.tradesJoined(instrument);
  }

  /** Verifies a Commands frame and puts all its commands in the ring, or none of them. */
  private onCommands(ws: WebSocket<Session>, view: DataView): void {
    const span = this.span;
    verifyCommandBatch(view, frameHeaderBytes, view.byteLength, span);
    const requestId = view.getUint32(4, true);
    const flags = view.getUint16(2, true);
    if (span.fault !== BatchFault.None) {
      return ws.end(CloseCode.Malformed, `bad CommandBatch (fault ${span.fault})`);
    }
    if ((flags & ~CommandsFlag.All) !== 0) {
      return ws.end(CloseCode.Malformed, `unknown Commands flags ${flags}`);
    }
    if (span.count > commandsPerFrameMax) {
      return sendError(ws, requestId, FrameError.TooManyCommands, 'too many commands');
    }
    const last = span.start + (span.count - 1) * commandSizeBytes;
    if ((view.getUint8(last + CommandWord.bits * 4 + 1) & CommandFlag.Linked) !== 0) {
      const why = 'linked chain left open: a chain closes within its frame';
      return sendError(ws, requestId, FrameError.ChainOpen, why);
    }
    const grant = ws.getUserData().grant;
    const forbidden = grant === null ? 'not allowed: no API key' : frameRefusal(grant, view, span);
    if (forbidden !== null) return sendError(ws, requestId, FrameError.Forbidden, forbidden);
    if (!this.options.role.accepting()) {
      // A primary handing over (or deposed): sent again after a wait, and once the session
      // closes, to the next primary. Not counted as refused: it is no slow reader.
      this.counts.busyAnswers++;
      return sendError(ws, requestId, FrameError.Busy, 'not taking commands: stopping');
    }
    const sink = this.sink;
    const session = ws.getUserData();
    const refused = session.refused;
    const turn = refusedTurn(session, requestId, view, span.start);
    this.cancels.writeWaitingMarks(); // its client's mark, if it waits, goes first if it fits
    if (!turn || this.cancels.holds(session.clientId) || !sink.hasRoom(span.count)) {
      noteRefused(session, requestId, view, span.start);
      this.counts.refusedFrames++;
      if (refused.length > refusedFramesMax)
        return ws.end(CloseCode.SlowConsumer, 'too many refused frames');
      this.counts.busyAnswers++;
      return sendError(ws, requestId, FrameError.Busy, 'busy: send again later');
    }
    if (refused.length > 0) refusedTaken(session);
    if ((flags & CommandsFlag.ResultsOnly) !== 0) {
      session.results ??= new ResultRanges();
      session.results.add(view, span); // when full: answered with Events
    }
    copyCommands(this.sink, view, span, session.clientId);
    this.clientSeqs.note(session.clientId, frameClientSeq(view, span.start, span.count));
    this.sink.publish();
  }

  /** Sends each durable event to the session of its client, batched per session. */
  private deliver(records: RecordBuffer, slot: number, count: number): void {
    if (this.httpPending.size > 0) this.answerHttp(records, slot, count);
    this.cancels.deliver(records, slot, count);
    this.streams.deliver(records, slot, count);
    this.tail.catchUp(); // a promoted standby's tail first (topics-tail.ts)
    this.publishTopics(records, slot, count);
    this.runs.deliver(records, slot, count); // each session's runs corked: one write
  }

  /** One run of a session's answers: Events frames, or Results for its ResultsOnly commands. */
  private sendAnswers(
    ws: WebSocket<Session>,
    records: RecordBuffer,
    from: number,
    n: number,
    more: boolean,
  ): void {
    const results = ws.getUserData().results;
    if (results === null || results.isEmpty()) {
      const u8 = records.u8;
      const events = u8.subarray(from * eventSizeBytes, (from + n) * eventSizeBytes);
      this.sendEvents(ws, events, n, more ? EventsFlag.More : 0);
    } else {
      this.sendRun(ws, results, records, from, n, more);
    }
  }

  /**
   * Sends a run of one session's events when it has ResultsOnly commands: a Results frame for
   * each stretch of those (a record per head event; their other events are not sent) and an
   * Events frame for each stretch of the others, in the order of the run.
   */
  private sendRun(
    ws: WebSocket<Session>,
    results: ResultRanges,
    records: RecordBuffer,
    from: number,
    n: number,
    more: boolean,
  ): void {
    const u32 = records.u32;
    let i = 0;
    while (i < n) {
      const only = results.covers(readU64(u32, (from + i) * EventWord.size + EventWord.clientSeq));
      let k = i + 1;
      while (k < n) {
        const seq = readU64(u32, (from + k) * EventWord.size + EventWord.clientSeq);
        if (results.covers(seq) !== only) break;
        k++;
      }
      if (only) this.sendResults(ws, u32, from + i, k - i);
      else {
        const u8 = records.u8;
        this.sendEvents(
          ws,
          u8.subarray((from + i) * eventSizeBytes, (from + k) * eventSizeBytes),
          k - i,
          more && k === n ? EventsFlag.More : 0,
        );
      }
      i = k;
    }
  }

  /** A Results frame: one record per head event among events [from, from + n) of `events`. */
  private sendResults(ws: WebSocket<Session>, events: Uint32Array, from: number, n: number): void {
    const out = this.outgoingResults;
    let count = 0;
    for (let i = from; i < from + n; i++) {
      const e = i * EventWord.size;
      if ((events[e + EventWord.flagsTifStp] & EventFlag.Head) === 0) continue;
      writeResult(out, (frameHeaderBytes + 8) / 4 + count * ResultWord.size, events, e);
      count++;
    }
    if (count === 0) return;
    const view = this.outgoingResultsView;
    writeHeader(view, 0, FrameType.Results, 0);
    view.setUint32(frameHeaderBytes, count, true);
    view.setUint32(frameHeaderBytes + 4, 0, true);
    const bytes = frameHeaderBytes + 8 + count * ResultWord.size * 4;
    ws.send(new Uint8Array(out.buffer, 0, bytes), true);
    closeIfSlow(ws);
  }

  /** Answers the HTTP commands whose events are in this run (each command's come together). */
  private answerHttp(records: RecordBuffer, slot: number, count: number): void {
    let events: EventRecord[] | null = null;
    let key = '';
    for (let i = 0; i < count; i++) {
      const e = (slot + i) * EventWord.size;
      const clientSeq = readU64(records.u32, e + EventWord.clientSeq);
      const k = `${records.u32[e + EventWord.clientId]}/${clientSeq}`;
      if (k !== key) {
        if (events !== null) this.finishHttp(key, events);
        key = k;
        events = this.httpPending.has(k) ? [] : null;
      }
      if (events !== null) events.push(hideMakerOf(readEvent(records.u32, e)));
    }
    if (events !== null) this.finishHttp(key, events);
  }

  private finishHttp(key: string, events: EventRecord[]): void {
    const answer = this.httpPending.get(key);
    this.httpPending.delete(key);
    answer?.(events);
  }

  /**
   * An Events frame: a session's answers (request id 0; each Trade without its maker's side,
   * trade-privacy.ts) or a journal stream's whole records.
   */
  private sendEvents(
    ws: WebSocket<Session>,
    events: Uint8Array,
    n: number,
    flags: number,
    requestId = 0,
    answers = true,
  ): void {
    const view = this.outgoingView;
    writeHeader(view, 0, FrameType.Events, requestId, flags);
    view.setUint32(frameHeaderBytes, n, true);
    view.setUint32(frameHeaderBytes + 4, 0, true);
    this.outgoing.set(events, frameHeaderBytes + 8);
    if (answers) hideMakers(this.outgoing, view, frameHeaderBytes + 8, n);
    ws.send(this.outgoing.subarray(0, frameHeaderBytes + 8 + events.byteLength), true);
    closeIfSlow(ws);
  }
}
