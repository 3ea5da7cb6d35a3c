/**
 * Opening a session: the WebSocket, Hello (the API key, or for a challenge login its id and
 * then the proof), and Welcome (the idempotency window, the durable sequence, the client's
 * next seq). The connection options and the SDK's error live here too.
 *
 *   client ── Hello(client id, key | key id) ──► server
 *          ◄── Challenge(nonce) ── Answer(proof) ──►      (challenge login only)
 *          ◄── Welcome(window, durable sequence, next seq)
 */
import type { StreamGap } from './subscriptions.js';
import type { OnState } from './connection-state.js';
import WebSocket from 'ws';
import {
  sdkConnectRoundMs,
  sdkConnectWaitMs,
  sdkRetryAfterMsMax,
  sdkSilenceMs,
} from '../constants.js';
import { clientKey, loginProof, splitApiKey } from '../protocol/login.js';
import { readWelcomeCancels, type WelcomeCancels } from '../protocol/welcome.js';
import { OpeningWatch } from './opening-watch.js';
import { jittered } from './backoff.js';
import {
  accountStreamFlags,
  CloseCode,
  FrameType,
  frameHeaderBytes,
  challengeBytes,
  HelloFlag,
  LoginMethod,
  writeHeader,
  readPath,
} from '../protocol/frames.js';

export interface ConnectOptions {
  clientId: number;
  /** The API key (`bk_...`) made for this client id by `bourse keys create`. */
  apiKey?: string;
  /**
   * 'key' (default) sends the key in Hello; 'challenge' sends only its id and signs a server
   * nonce with the secret (HMAC-SHA256), so the secret never crosses the wire.
   */
  login?: 'key' | 'challenge';
  /**
   * Client sequence number of the first command. Default: the one the server names in Welcome,
   * one past the highest this client id used (1 for a new id), so that a restarted process
   * goes on where the last one stopped.
   */
  firstClientSeq?: number;
  /**
   * Commands sent but not yet answered; past it, calls wait (backpressure). Default: the
   * server's idempotency window, so that a resend after a drop always gets the original
   * outcome. Above it, a resent command older than the window is refused with
   * IdempotencySeqTooOld (never applied twice), and its outcome is in the journal.
   */
  inFlightMax?: number;
  /**
   * Submissions (calls; a batch is one, however large) held waiting for room in flight
   * (default sdkQueueMax, 100,000). Past it a call is refused at once with ClientError
   * QueueFull (5000, the SDK's own code) and nothing sent: a loop that never awaits its calls
   * cannot fill the heap.
   */
  queueMax?: number;
  /**
   * How long the SDK goes on reconnecting after a drop before it fails what is pending and
   * closes for good (ms; default 30,000): long enough for a cluster to elect, or to come back
   * from a lost quorum or a restart of every member. Calls made meanwhile wait. A node that
   * sheds the login (503 with retryAfterMs: full, or too many logins under way) is up: each
   * such refusal renews the wait, up to 4 × reconnectWaitMs after the drop
   * (sdkReconnectShedWaitsMax).
   */
  reconnectWaitMs?: number;
  /**
   * At most this many rounds of reconnecting (each tries every member once), within
   * reconnectWaitMs; default: as many as fit.
   */
  reconnectAttempts?: number;
  /**
   * The other cluster members' addresses. Only the primary takes clients (standbys answer 503),
   * so connecting, and reconnecting after a failover, tries each address in turn. With connect's
   * url, these are the only addresses the SDK goes to: a primary a 503 names elsewhere is not.
   */
  members?: string[];
  /**
   * How long `connect` keeps looking for the primary while members answer but none takes the
   * session (503: a standby, or a cluster still electing or starting), or while the client id's
   * session is still open (4007: a restarted process's, or one cut off unseen, which the node
   * gives up after 2 s of silence), in ms; default 10,000.
   */
  connectWaitMs?: number;
  /**
   * A connection that answers nothing (no frame, no pong) for this long is dropped and the SDK
   * reconnects, as after any drop; so is a session being opened, silent that long (a login
   * the server answers pings for is waited on, up to connectWaitMs) (ms; default 2,000; 0:
   * never). A primary that hangs, or sits across a network partition, keeps its TCP
   * connection open: without this, the SDK waited on it for as long as that lasted.
   */
  silenceMs?: number;
  /**
   * How long the SDK sends a frame the node refuses as Busy again (its input ring full) before
   * it gives up: that call, and every later one already sent, fail with BusyTimeout (5001),
   * not applied (ms; default 10,000). Their client seqs go to the next calls.
   */
  busyTimeoutMs?: number;
  /**
   * A read-only session (path /read): subscriptions only, commands are refused (Error 5). Any
   * cluster member takes it, a standby included, so journal and book streams can be read
   * from a standby and leave the primary to commands.
   */
  readOnly?: boolean;
  /**
   * Cancel on disconnect: if this session's connection is lost (a drop, a crash, the server
   * closing it; not `close()`), the server cancels the resting orders this client id placed,
   * those kept from before its start included, and no other client's (docs/PROTOCOL.md,
   * "Cancel on disconnect"). Asked for again at every reconnect. Refused with a read-only
   * session; a server that does not do it fails `connect`. Default false.
   */
  cancelOnDisconnect?: boolean;
  /**
   * Called each time the SDK has opened the session again after a drop (`url`: the member it
   * is on now), once its unanswered commands went out again and its subscriptions were asked
   * for again. Account streams resume from the last sequence they delivered (what became
   * durable meanwhile comes first, each event once); trades that became durable while no
   * connection was up are not sent again: `gaps` names each trades stream and the last sequence
   * it handed over (the journal, or GET /events with an admin key, has what it missed).
   * A throw is a process warning (BOURSE_ONRECONNECT_THREW); the client goes on.
   */
  onReconnect?: (url: string, gaps: StreamGap[]) => void;
  /**
   * Called at each change of the connection's state, once each, in order: 'connecting' (from
   * connect), 'open' (before connect resolves, and after each reconnect, before onReconnect),
   * 'reconnecting' (at a drop, before any attempt: stop quoting), 'closed' (once, last; from
   * close() itself too), with the member, the close code and reason, and what the server does
   * with the session's resting orders (connection-state.ts). `client.connection` is the state
   * now. A throw is a process warning (BOURSE_ONSTATE_THREW); the client goes on.
   */
  onState?: OnState;
}

export class ClientError extends Error {
  override readonly name: string = 'ClientError';
  constructor(
    readonly code: number,
    message: string,
    /** The command was sent and never answered: it may have been applied (see the journal). */
    readonly mayHaveApplied = false,
    /**
     * The command's client seq, when a call's one command was cut off (0: not one command's,
     * or one that waited in the SDK for room in flight: never given a seq, never sent).
     * Whether it was applied: connect again with the client id, and compare its
     * `nextClientSeq` (one past the last the engine took, from the server's Welcome). Below
     * it, the engine took it (applied or refused: its outcome is in the journal, under this
     * client id and seq); at or above it, it never reached the engine, and sending it again
     * applies it once. A retry by a new call, without this check, may apply it twice.
     */
    readonly clientSeq = 0,
  ) {
    super(message);
  }
}

/**
 * The masking key of every frame the SDK sends: zero, which `ws` takes as "no masking" and then
 * sends the frame's bytes as they are, instead of copying and XOR-ing them (a 16 KB frame of
 * 250 commands: an allocation, a copy and a pass over it, each time). RFC 6455 asks clients for
 * random keys so that a script in a browser cannot shape the bytes an old proxy on the path
 * reads as HTTP (section 10.3); this SDK runs in Node, and its frames are the binary protocol.
 */
function zeroMask(mask: Buffer): void {
  mask.fill(0);
}

interface Opened {
  socket: WebSocket;
  /** Welcome's flags: the Hello flags the server took. */
  flags: number;
  durableSequence: number;
  window: number;
  nextSeq: number;
  /** What the node canceled of the client id's orders since its last session (null: unsaid). */
  cancels: WelcomeCancels | null;
}

/**
 * Connects, sends Hello, and resolves at Welcome (rejects on a close or an error first). A
 * server from before HelloFlag.ResumeStarts, AccountStarts or AccountInFrames closes a Hello
 * that sets it (4002, "unknown Hello flags"): the SDK says Hello again without the newest, and
 * so on, and reads that server's account frames as it sends them (streams.ts: no start said,
 * no account named). Upgrading the SDK before the servers then costs a round trip or up to
 * three per connection, not the connection. `closed` (the client's, aborted by close()) ends
 * an opening still under way at once: a login queued on a node that answers pings was waited
 * for up to connectWaitMs, and held a closed client's process that long.
 */
export async function openSession(
  url: string,
  options: ConnectOptions,
  closed?: AbortSignal,
): Promise<Opened> {
  let flags = helloFlags(options);
  // The newest flag first: a server knows the older ones if it knows a newer.
  const newestFirst = [HelloFlag.ResumeStarts, HelloFlag.AccountStarts, HelloFlag.AccountInFrames];
  for (const newest of newestFirst) {
    try {
      return await openSessionAsking(url, options, flags, closed);
    } catch (error) {
      if (!unknownHelloFlags(error)) throw error;
      flags &= ~newest;
    }
  }
  return openSessionAsking(url, options, flags, closed);
}

/** Whether `error` is a server's refusal of Hello flags it does not know. */
function unknownHelloFlags(error: unknown): boolean {
  if (!(error instanceof ClientError) || error.code !== CloseCode.Malformed) return false;
  return /unknown Hello flags/.test(error.message);
}

/** openSession with Hello flags `flags`; given up at once when `closed` aborts. */
function openSessionAsking(
  url: string,
  options: ConnectOptions,
  flags: number,
  closed?: AbortSignal,
): Promise<Opened> {
  return new Promise((resolveOpen, rejectOpen) => {
    const target = options.readOnly === true ? new URL(readPath, url).toString() : url;
    const socket = new WebSocket(target, { perMessageDeflate: false, generateMask: zeroMask });
    socket.binaryType = 'nodebuffer';
    // A member that hangs accepts the TCP connection (its kernel does) and never answers. With
    // silenceMs 0 (an open session is never dropped for silence) an opening still ends, after
    // connectWaitMs: connect hung for ever on such a port. A server that answers (pongs) while
    // the login waits its turn is waited for, up to connectWaitMs (opening-watch.ts).
    const connectWaitMs = options.connectWaitMs ?? sdkConnectWaitMs;
    const waitMs = Math.max(1, (options.silenceMs ?? sdkSilenceMs) || connectWaitMs);
    const watch = new OpeningWatch(socket, waitMs, Math.max(waitMs, connectWaitMs), (why) => {
      socket.terminate();
      rejectOpen(new Error(`${target}: ${why}`));
    });
    watch.endOn(closed);
    const reject = (error: Error): void => {
      watch.stop();
      rejectOpen(error);
    };
    const resolve = (session: Parameters<typeof resolveOpen>[0]): void => {
      watch.stop();
      resolveOpen(session);
    };
    socket.once('error', (error) => reject(connectError(target, error)));
    // A refused upgrade: its body may name the primary (a standby's 503), to go to next.
    socket.once('unexpected-response', (request, response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += body.length < 4096 ? chunk : ''));
      response.on('end', () => {
        request.destroy();
        const error = new Error(`Unexpected server response: ${response.statusCode}`);
        const refused = connectError(target, error, primaryUrlIn(body), reasonIn(body));
        reject(Object.assign(refused, { retryAfterMs: retryAfterMsIn(body) }));
      });
    });
    socket.once('open', () => {
      socket.send(helloFrame(options, flags));
      const onMessage = (data: Buffer): void => {
        if (data.readUInt8(0) === FrameType.Challenge)
          return socket.send(answerFrame(options, data));
        socket.removeAllListeners();
        if (data.readUInt8(0) !== FrameType.Welcome) return reject(new Error('no Welcome'));
        if (!tookFlags(options, data.readUInt16LE(2))) {
          socket.on('error', () => {}); // its listeners are gone: an error must not throw
          socket.close(1000, 'bye'); // a clean close: the server cancels nothing for it
          return reject(new Error(`${target}: this server does not cancel on disconnect`));
        }
        resolve(openedBy(socket, data));
      };
      socket.on('message', onMessage);
      socket.once('close', (code: number, reason: Buffer) => {
        reject(new ClientError(code, `closed during Hello: ${reason.toString()}`));
      });
    });
  });
}

/**
 * The session a Welcome frame opened. Its fields are appended over time: each one past the end
 * of the frame (an older server's) reads as not said.
 */
function openedBy(socket: WebSocket, data: Buffer): Opened {
  const long = data.byteLength >= frameHeaderBytes + 24; // a server that says the next seq
  return {
    socket,
    flags: data.readUInt16LE(2),
    window: data.readUInt32LE(frameHeaderBytes + 4),
    durableSequence: data.readDoubleLE(frameHeaderBytes + 8),
    nextSeq: long ? data.readDoubleLE(frameHeaderBytes + 16) : 0,
    cancels: readWelcomeCancels(data, frameHeaderBytes),
  };
}

/**
 * Why a connection could not open, with the address: ws's own words ("Unexpected server
 * response: 404") do not say what to do. A plain Error, not a ClientError: connect goes on to
 * the next member (a standby answers 503).
 */
function connectError(url: string, error: Error, primaryUrl?: string, reason?: string): Error {
  const status = Number(/Unexpected server response: (\d+)/.exec(error.message)?.[1]);
  const code = (error as NodeJS.ErrnoException).code;
  let why = error.message;
  if (status === 404)
    why = 'no bourse endpoint at this path (HTTP 404): / takes commands, /read reads';
  // The server's own reason ("too many logins under way from this address") says what to do.
  else if (status === 503 && reason !== undefined) why = `${reason} (HTTP 503)`;
  else if (status === 503) why = 'not taking sessions now (HTTP 503: a standby, or starting)';
  else if (status > 0) why = `the WebSocket upgrade was refused (HTTP ${status})`;
  else if (code === 'ECONNREFUSED') why = 'nothing listens there (ECONNREFUSED): is the node up?';
  if (primaryUrl !== undefined) why += `; its primary: ${primaryUrl}`;
  return Object.assign(new Error(`${url}: ${why}`), { code, status, primaryUrl });
}

/** The reason a refusal's JSON body gives (`error`), at most 200 characters, if it has one. */
function reasonIn(body: string): string | undefined {
  try {
    const error = (JSON.parse(body) as { error?: unknown }).error;
    return typeof error === 'string' && error !== '' ? error.slice(0, 200) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * When a 503 that sheds logins asks to come back (`retryAfterMs`, ms; at most a minute), if it
 * says: the server is up, and a place frees soon.
 */
function retryAfterMsIn(body: string): number | undefined {
  try {
    const ms = (JSON.parse(body) as { retryAfterMs?: unknown }).retryAfterMs;
    return typeof ms === 'number' && ms >= 0 && ms <= sdkRetryAfterMsMax ? ms : undefined;
  } catch {
    return undefined;
  }
}

/** The primary's address a standby's 503 names (`primaryUrl`), if it is one. */
function primaryUrlIn(body: string): string | undefined {
  try {
    const url = (JSON.parse(body) as { primaryUrl?: unknown }).primaryUrl;
    return typeof url === 'string' && /^wss?:\/\//.test(url) ? url : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The Hello flags `options` ask for. Always AccountInFrames: each account stream's frames then
 * name their account, and go to that account's handlers only (streams.ts); AccountStarts: the
 * server says where each account stream taken without `from` starts; and ResumeStarts: it says
 * so of each taken with `from` too.
 */
function helloFlags(options: ConnectOptions): number {
  const cancel = options.cancelOnDisconnect === true ? HelloFlag.CancelOnDisconnect : 0;
  return cancel | accountStreamFlags;
}

/**
 * Whether Welcome's flags say the server took the Hello flags that cannot go without:
 * CancelOnDisconnect. A server that did not take AccountInFrames (one from before it, which
 * wrote Welcome's flags as 0) sends account frames that name no account; they are read so.
 */
function tookFlags(options: ConnectOptions, welcomeFlags: number): boolean {
  const asked = helloFlags(options) & HelloFlag.CancelOnDisconnect;
  return (welcomeFlags & asked) === asked;
}

/** Hello with `flags`: the whole key, or for challenge login only its id (`bk_<id>`). */
function helloFrame(options: ConnectOptions, flags: number): ArrayBuffer {
  const challenge = options.login === 'challenge';
  const token = options.apiKey ?? '';
  const name = challenge ? token.split('_').slice(0, 2).join('_') : token;
  const key = Buffer.from(name, 'latin1');
  const hello = new DataView(new ArrayBuffer(frameHeaderBytes + 8 + key.byteLength));
  writeHeader(hello, 0, FrameType.Hello, 0, flags);
  hello.setUint32(frameHeaderBytes, options.clientId, true);
  hello.setUint16(frameHeaderBytes + 4, key.byteLength, true);
  hello.setUint16(frameHeaderBytes + 6, challenge ? LoginMethod.Challenge : LoginMethod.Key, true);
  new Uint8Array(hello.buffer).set(key, frameHeaderBytes + 8);
  return hello.buffer;
}

/** Answer: the secret's proof for the Challenge's nonce. */
function answerFrame(options: ConnectOptions, challenge: Buffer): Buffer {
  const key = splitApiKey(options.apiKey ?? '');
  const nonce = challenge.subarray(frameHeaderBytes, frameHeaderBytes + challengeBytes);
  const proof =
    key === null
      ? Buffer.alloc(challengeBytes)
      : loginProof(clientKey(key.secret), nonce, options.clientId);
  const frame = Buffer.alloc(frameHeaderBytes + challengeBytes);
  writeHeader(new DataView(frame.buffer, frame.byteOffset), 0, FrameType.Answer, 0);
  proof.copy(frame, frameHeaderBytes);
  return frame;
}

type Session = Awaited<ReturnType<typeof openSession>>;

/**
 * Opens a session on the first of `urls` that takes it. A cluster member that is up but not
 * primary answers 503, naming the primary when it knows one, and while a cluster starts or
 * elects none is primary: so while any member answers 503, rounds over all of them go on for
 * `connectWaitMs`, and so do they while the client id's session is open (4007: isIdHeld).
 * Refusals that waiting does not mend (nothing listens anywhere, a wrong path, another
 * ClientError: a wrong key) end it at once, as does any refusal but 503 or 4007 of a single
 * address.
 * The primary a 503 names is not added to `urls` (see notGiven).
 */
export async function openFirstSession(
  urls: readonly string[],
  options: ConnectOptions,
): Promise<{ session: Session; url: string }> {
  const started = performance.now();
  const waitMs = options.connectWaitMs ?? sdkConnectWaitMs;
  for (;;) {
    const refusals: string[] = [];
    let standing = false; // a member is up, and not (yet) primary
    let held: ClientError | null = null; // the client id's session is open (4007)
    let retryAfterMs = 0; // the longest a member shedding logins asked to wait
    for (const url of urls) {
      try {
        return { session: await openSession(url, options), url };
      } catch (error) {
        const { status, primaryUrl } = error as { status?: number; primaryUrl?: string };
        retryAfterMs = Math.max(
          retryAfterMs,
          (error as { retryAfterMs?: number }).retryAfterMs ?? 0,
        );
        if (isIdHeld(error)) held = error;
        else if (error instanceof ClientError || (urls.length === 1 && status !== 503)) {
          throw error;
        }
        const unlisted = primaryUrl !== undefined && !isGivenUrl(primaryUrl, urls);
        refusals.push((error as Error).message + (unlisted ? notGiven : ''));
        if (status === 503) standing = true;
      }
    }
    const waited = performance.now() - started;
    // Jittered: clients refused together do not all come back on the same millisecond.
    const pauseMs = jittered(Math.max(sdkConnectRoundMs, retryAfterMs));
    if (!(standing || held !== null) || waited + pauseMs > waitMs) {
      const after = waited >= sdkConnectRoundMs ? ` in ${(waited / 1000).toFixed(1)} s` : '';
      const why = `no member took the session${after}: ${refusals.join('; ')}`;
      throw held === null ? new Error(why) : new ClientError(held.code, why);
    }
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
}

/**
 * A refusal that waiting mends: the client id's session is open (4007), which the node ends
 * once it sees its connection gone, or, silent, once a login has pinged it for
 * sessionHolderSilenceMs (a process restarted at once, or the SDK's own connection cut without
 * the node hearing of it). connect failed at once on it, with a ClientError a caller seldom
 * catches; it now tries again for connectWaitMs, as while a cluster elects.
 */
function isIdHeld(error: unknown): error is ClientError {
  return error instanceof ClientError && error.code === CloseCode.ClientIdInUse;
}

/**
 * A standby's 503 names its primary's address; the SDK goes only to addresses it was given
 * (connect's url and `members`). Hello carries the API key (all of it, but for challenge
 * login), and a node misconfigured, or not the caller's, could name any address: followed, it
 * received the key, and the session's commands. It is named in the error that ends the wait.
 */
const notGiven =
  ' (not followed: not among the addresses given to connect, its url and members; ' +
  "add it to members if it is this cluster's)";

/**
 * Whether `url` is one of `given`, as a URL: `ws://h:9001` is `ws://h:9001/`, and the host's
 * case does not count. Not a DNS lookup: a host given by another name is another address.
 */
function isGivenUrl(url: string, given: readonly string[]): boolean {
  const href = URL.canParse(url) ? new URL(url).href : url;
  return given.some((g) => g === url || (URL.canParse(g) && new URL(g).href === href));
}

/** The addresses to try, `first` first, then the other members in their order. */
export function memberUrls(first: string, options: ConnectOptions): string[] {
  return [first, ...(options.members ?? []).filter((u) => u !== first)];
}
