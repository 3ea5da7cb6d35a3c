/**
 * The client protocol's frames (docs/PROTOCOL.md). Every WebSocket message is one binary frame:
 *
 *   0      1        2          4             8
 *   +------+--------+----------+-------------+--------------------------------+
 *   | type | version| flags    | request id  | body                           |
 *   | u8   | u8 = 1 | u16      | u32         |                                |
 *   +------+--------+----------+-------------+--------------------------------+
 *
 *   client → server  Hello     body: client id u32, key length u16, login method u16, API key;
 *                              flags: CancelOnDisconnect (1)
 *                    Commands  body: a FlatBuffers CommandBatch (vector of 64-byte Command);
 *                              flags: ResultsOnly (1) asks for Results instead of Events
 *                    Subscribe body: stream u8 (1 journal, 2 trades, 3 account, 4 depth, 5 top
 *                              of book), reserved u8 × 7, f64: from sequence (journal),
 *                              instrument, or account; flags: From (1, account streams),
 *                              then f64: the first sequence to send
 *                    Answer    body: HMAC-SHA256 (32 bytes) of the Challenge
 *                    Unsubscribe  body: as Subscribe; request id: the Subscribe's (journal)
 *   server → client  Welcome   body: client id u32, window u32, durable sequence f64, next
 *                              seq f64, the cancel report (welcome.ts); flags: the Hello flags
 *                              the server took
 *                    Events    body: count u32, reserved u32, [account f64: flagged Account,]
 *                              then count 128-byte Event structs
 *                    Results   body: count u32, reserved u32, then count 24-byte CommandResult
 *                    Error     body: code u16, reserved u16, UTF-8 message
 *                    Challenge body: nonce (32 bytes)
 *                    Book      body: instrument u32, bids u16, asks u16, sequence f64, levels
 *
 * The FlatBuffers JS runtime has no verifier: `verifyCommandBatch` checks every offset of an
 * untrusted CommandBatch against the frame before anything reads it.
 */
import { commandSizeBytes, eventSizeBytes } from '../constants.js';

export const protocolVersion = 1;
export const frameHeaderBytes = 8;

export const enum FrameType {
  Hello = 0x01,
  Commands = 0x02,
  Subscribe = 0x03,
  /** The answer to a Challenge: the client key under the HMAC-SHA256 of it (`loginProof`). */
  Answer = 0x04,
  /** Ends a stream: the Subscribe's body (and, for the journal, its request id). */
  Unsubscribe = 0x05,
  Welcome = 0x81,
  Events = 0x82,
  Error = 0x83,
  /** A nonce to sign, when Hello asked for challenge login. */
  Challenge = 0x84,
  /** One side-by-side view of a book: top of book or depth (see `writeBookBody`). */
  Book = 0x85,
  /** One 24-byte CommandResult per command of ResultsOnly frames (result-layout.ts). */
  Results = 0x86,
  /**
   * Where an account stream starts (HelloFlag.AccountStarts, and ResumeStarts for one flagged
   * From): after its f64 sequence.
   */
  Subscribed = 0x87,
}

/**
 * Bits of a Hello frame's header flags. A Hello with a bit not named here is closed as
 * Malformed, so that a client never believes a server took what it cannot know. Welcome's
 * flags repeat the bits the server took: a client that asked and finds the bit missing there
 * talks to a server that does not do it (an older one wrote Welcome's flags as 0).
 */
export const enum HelloFlag {
  /**
   * On a loss of this session (any close but the client's own with 1000, while the node runs
   * and takes commands), cancel the resting orders of every account it placed or amended
   * orders for (docs/PROTOCOL.md, "Cancel on disconnect"). A read-only session does not take it.
   */
  CancelOnDisconnect = 1,
  /**
   * Name, in each Events frame of an account stream, the account it was sent for (EventsFlag.
   * Account). An event naming two accounts a session streams (a transfer between them) goes
   * out once per account; without the name, the frames of one request id could not be told
   * apart, and a client streaming both could not hand each account's handlers its own.
   */
  AccountInFrames = 2,
  /**
   * Answer each Subscribe to an account stream without From with Subscribed: the sequence its
   * events start after. Without it, a client that had heard nothing since its login could not
   * tell where its stream began, and resumed it from the login (older events, as new), and a
   * second handler of an account being resumed got the backlog (events before its Subscribe).
   */
  AccountStarts = 4,
  /**
   * Answer each Subscribe flagged From that starts an account stream with Subscribed: from - 1,
   * before the stored events. Every account frame has one request id: without it, a client
   * that ended an account's stream and took it again from a sequence could not tell the ended
   * stream's frames still on their way from the new one's, and handed them over first (the
   * backlog below them was then taken as delivered, and lost).
   */
  ResumeStarts = 8,
  All = 15,
}

/** The Hello flags of account streams (what their frames carry, what the server says of them). */
export const accountStreamFlags =
  HelloFlag.AccountInFrames | HelloFlag.AccountStarts | HelloFlag.ResumeStarts;

/**
 * Bits of a Commands frame's header flags (Hello's: HelloFlag; every other frame a client
 * sends: 0). A frame with a
 * bit not named here is closed as Malformed.
 */
export const enum CommandsFlag {
  /**
   * Answer each command with a 24-byte CommandResult (its status and head sequence) in Results
   * frames, and send none of its events: for clients that stream and need only outcomes.
   */
  ResultsOnly = 1,
  All = 1,
}

/**
 * Bits of a Subscribe frame's header flags (servers before these ignored them: a client that
 * sets From there gets the live stream only).
 */
export const enum SubscribeFlag {
  /**
   * An account stream from a sequence: the body goes on with an f64, the first sequence to
   * send; the account's stored events from there come first, then the live ones.
   */
  From = 1,
}

/**
 * Bits of an Events frame's header flags. The server keeps a frame to at most eventsPerFrameMax
 * events, so one command's events (a sweep of 300 makers) can go on in the next Events frame
 * of the session: its last command is then not answered yet.
 */
export const enum EventsFlag {
  /** The frame's last command has more events in the session's next Events frame. */
  More = 1,
  /**
   * An account stream's frame, to a session that asked (HelloFlag.AccountInFrames): the body
   * holds, after count and reserved, the account it was sent for (f64), then the events.
   */
  Account = 2,
}

/** Where the events of an Events frame with header flags `flags` start. */
export function eventsOffset(flags: number): number {
  return frameHeaderBytes + ((flags & EventsFlag.Account) !== 0 ? 16 : 8);
}

/** How Hello logs in (the u16 after the key length). */
export const enum LoginMethod {
  /** The API key itself travels in Hello. */
  Key = 0,
  /**
   * Retired (2026-12-05): challenge login whose proof keys.json could sign. Refused with 4010
   * and a reason naming method 2, so an old client is told why rather than "key refused".
   */
  ChallengeV1 = 1,
  /** Hello carries the key id only (`bk_<id>`); the secret signs a server nonce. */
  Challenge = 2,
}

/** Bytes of a Challenge's nonce and of an Answer's HMAC. */
export const challengeBytes = 32;

/** WebSocket close codes (4000–4999 are the application's). */
export const enum CloseCode {
  VersionUnsupported = 4000,
  HelloRequired = 4001,
  Malformed = 4002,
  UnknownType = 4003,
  TextFrame = 4004,
  BadClientId = 4006,
  ClientIdInUse = 4007,
  SlowConsumer = 4008,
  /** A read session past readSessionsPerClientMax of its client id. */
  TooManyReadSessions = 4009,
  /** Missing, unknown or wrong API key, or a key for another client id. */
  Unauthorized = 4010,
}

/**
 * The WebSocket path of read-only sessions: subscriptions only (commands get Error 5). Every
 * cluster member takes them, a standby included; the default path takes commands and only
 * the primary (a standby answers the upgrade with 503).
 */
export const readPath = '/read';

/** Error frame codes: a frame refused as a whole, nothing of it accepted. */
export const enum FrameError {
  /** The input ring is full: nothing was accepted; send again later. */
  Busy = 1,
  TooManyCommands = 2,
  /** A command the session's key does not allow (admin-only kind, or an account not granted). */
  Forbidden = 3,
  /** A Subscribe for an unknown stream, a bad parameter, or past subscriptionsPerSessionMax. */
  BadSubscription = 4,
  /** Commands on a read-only session (path /read): they go to the primary's default path. */
  ReadOnly = 5,
  /**
   * The frame's last command is flagged Linked: a linked chain closes within its frame (the
   * engine would hold the chain open until the client's next command, whenever that came).
   */
  ChainOpen = 6,
  /**
   * Sent only by servers before cancel on disconnect went by client id (state layout 6): a
   * session that cancels on disconnect placing orders for more accounts than they noted.
   * Kept so that the code is not given another meaning.
   */
  TooManyAccounts = 7,
}

export const enum StreamKind {
  /** The whole journal from a sequence (admin). */
  Journal = 1,
  /** Trades of one instrument (anyone). */
  Trades = 2,
  /** Events naming one account (its keys, or admin). */
  Account = 3,
  /** Depth of one instrument's book, conflated (anyone). */
  Depth = 4,
  /** Best bid and offer of one instrument, conflated (anyone). */
  TopOfBook = 5,
}

/**
 * Body of a Book frame: instrument u32, bid levels u16, ask levels u16, the durable sequence
 * the view is consistent at (f64), then the bids best first and the asks best first, each
 * level 24 bytes: price f64, quantity f64, orders u32, reserved u32.
 */
export const bookLevelBytes = 24;
export const bookBodyBytes = 16;

/** Why a CommandBatch failed verification; 0 when it passed. */
export const enum BatchFault {
  None = 0,
  Truncated = 1,
  BadRoot = 2,
  BadVtable = 3,
  BadVector = 4,
  Empty = 5,
}

/** Result of verifyCommandBatch: where the Command structs start, and how many there are. */
export interface BatchSpan {
  fault: BatchFault;
  /** Byte offset of the first Command in the frame. */
  start: number;
  count: number;
}

/**
 * Checks a FlatBuffers CommandBatch at bytes [offset, end) of `view`: the root offset, the
 * vtable, the `commands` field and its vector, all inside the range, and the vector made of
 * whole 64-byte structs. Writes the result into `out` (no allocation).
 */
export function verifyCommandBatch(
  view: DataView,
  offset: number,
  end: number,
  out: BatchSpan,
): void {
  out.fault = BatchFault.None;
  out.start = 0;
  out.count = 0;
  if (end - offset < 12) return fault(out, BatchFault.Truncated);
  const table = offset + view.getUint32(offset, true);
  if (table + 4 > end || table < offset + 4) return fault(out, BatchFault.BadRoot);
  const vtable = table - view.getInt32(table, true);
  if (vtable < offset || vtable + 4 > end) return fault(out, BatchFault.BadVtable);
  const vtableBytes = view.getUint16(vtable, true);
  const tableBytes = view.getUint16(vtable + 2, true);
  if (vtableBytes < 4 || (vtableBytes & 1) !== 0 || vtable + vtableBytes > end) {
    return fault(out, BatchFault.BadVtable);
  }
  if (table + tableBytes > end) return fault(out, BatchFault.BadRoot);
  const fieldOffset = vtableBytes >= 6 ? view.getUint16(vtable + 4, true) : 0;
  if (fieldOffset === 0) return fault(out, BatchFault.Empty);
  if (fieldOffset + 4 > tableBytes) return fault(out, BatchFault.BadVector);
  const field = table + fieldOffset;
  const vector = field + view.getUint32(field, true);
  if (vector + 4 > end || vector < field) return fault(out, BatchFault.BadVector);
  const count = view.getUint32(vector, true);
  if (count === 0) return fault(out, BatchFault.Empty);
  if (count > (end - vector - 4) / commandSizeBytes) return fault(out, BatchFault.BadVector);
  out.start = vector + 4;
  out.count = count;
}

function fault(out: BatchSpan, why: BatchFault): void {
  out.fault = why;
}

/** Writes a frame header at `at` of `view` (`flags`: CommandsFlag bits of a Commands frame). */
export function writeHeader(
  view: DataView,
  at: number,
  type: FrameType,
  requestId: number,
  flags = 0,
): void {
  view.setUint8(at, type);
  view.setUint8(at + 1, protocolVersion);
  view.setUint16(at + 2, flags, true);
  view.setUint32(at + 4, requestId >>> 0, true);
}

/** Bytes of an Events frame holding `count` events. */
export function eventsFrameBytes(count: number): number {
  return frameHeaderBytes + 8 + count * eventSizeBytes;
}

/** Request ids from here up are the pub/sub streams' (topicRequestId): none is a client's. */
export const topicRequestIdBase = 0xffff0000;

/** Request id of the Events frames of a pub/sub stream (trades, account): one per kind. */
export function topicRequestId(kind: StreamKind): number {
  return (topicRequestIdBase | kind) >>> 0;
}
