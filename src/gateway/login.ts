/**
 * Logging in on a session: Hello with an API key, or Hello naming a key, then a Challenge
 * to sign and its Answer (docs/PROTOCOL.md). Either ends in `welcome`, with the grant of the
 * key, or in a refusal: closed (4010 for a key), and counted by reason (login-failures.ts).
 *
 *   client ──Hello {clientId, method, key}──────────► grant of the key ─► welcome
 *   client ──Hello {clientId, Challenge, key name}──► nonce
 *          ◄─Challenge {nonce}──────────────────────
 *   client ──Answer {HMAC(secret, nonce, clientId)}─► grant if the proof holds ─► welcome
 */
import { isClientId } from '../protocol/command-writer.js';
import {
  challengeBytes,
  CloseCode,
  FrameType,
  frameHeaderBytes,
  HelloFlag,
  LoginMethod,
  writeHeader,
} from '../protocol/frames.js';
import { challengeNonce, openGrant, type Grant, type KeyRing } from './api-keys.js';
import type { LoginFailureReason, LoginFailures } from './login-failures.js';
import { remoteAddress } from './admission.js';
import type { WebSocket } from './uws.js';

export type { LoginFailures };

/** What a session keeps of its login. */
export interface LoginFields {
  /** 0 until logged in. */
  clientId: number;
  /** A challenge login under way: the key named in Hello and the nonce sent to sign. */
  challenge: { keyName: string; clientId: number; nonce: Buffer } | null;
  /** The Hello's header flags (HelloFlag bits), for Welcome to take. */
  helloFlags: number;
}

/** Opens the session of `clientId` with `grant` (or refuses it: `Login.refuse`). */
export type Welcome<S> = (
  ws: WebSocket<S>,
  requestId: number,
  clientId: number,
  grant: Grant,
) => void;

export class Login<S extends LoginFields> {
  constructor(
    /** The API keys as they now are (null: no keys, every session is admin), and the count. */
    private readonly node: () => { keys: KeyRing | null; loginFailures: LoginFailures },
    private readonly welcome: Welcome<S>,
  ) {}

  onHello(ws: WebSocket<S>, view: DataView): void {
    const session = ws.getUserData();
    if (session.clientId !== 0 || session.challenge !== null) {
      return this.refuse(ws, 'malformed', CloseCode.Malformed, 'Hello sent twice');
    }
    if (view.byteLength < frameHeaderBytes + 4) {
      return this.refuse(ws, 'malformed', CloseCode.Malformed, 'short Hello');
    }
    const flags = view.getUint16(2, true);
    if ((flags & ~HelloFlag.All) !== 0) {
      return this.refuse(ws, 'malformed', CloseCode.Malformed, `unknown Hello flags ${flags}`);
    }
    session.helloFlags = flags;
    const clientId = view.getUint32(frameHeaderBytes, true);
    if (!isClientId(clientId)) {
      return this.refuse(ws, 'malformed', CloseCode.BadClientId, 'not a client id');
    }
    const method =
      view.byteLength >= frameHeaderBytes + 8 ? view.getUint16(frameHeaderBytes + 6, true) : 0;
    if (method === LoginMethod.ChallengeV1) {
      const why = 'challenge login 1 is retired: use method 2 (docs/PROTOCOL.md); update the SDK';
      return this.refuse(ws, 'malformed', CloseCode.Unauthorized, why);
    }
    if (method === LoginMethod.Challenge && this.node().keys !== null) {
      return this.sendChallenge(ws, view, clientId);
    }
    if (method !== LoginMethod.Key && method !== LoginMethod.Challenge) {
      return this.refuse(ws, 'malformed', CloseCode.Malformed, `unknown login method ${method}`);
    }
    const grant =
      method === LoginMethod.Key ? this.authenticate(view, clientId) : openGrant(clientId);
    this.finish(ws, view.getUint32(4, true), clientId, grant);
  }

  /** Closes a socket whose login is refused, and counts why (never with the key). */
  refuse(ws: WebSocket<S>, reason: LoginFailureReason, code: CloseCode, text: string): void {
    this.node().loginFailures.note(reason, remoteAddress(ws));
    ws.end(code, text);
  }

  /** Welcome with the key's grant, or 4010 with the reason it was refused. */
  private finish(
    ws: WebSocket<S>,
    requestId: number,
    clientId: number,
    grant: Grant | LoginFailureReason,
  ): void {
    if (typeof grant === 'string') {
      return this.refuse(ws, grant, CloseCode.Unauthorized, refusalText(grant));
    }
    this.welcome(ws, requestId, clientId, grant);
  }

  /** Challenge login, step 1: remember the key named, send a fresh nonce to sign. */
  private sendChallenge(ws: WebSocket<S>, view: DataView, clientId: number): void {
    const length = view.getUint16(frameHeaderBytes + 4, true);
    const start = frameHeaderBytes + 8;
    if (length === 0 || length > 64 || start + length > view.byteLength) {
      const reason = length === 0 ? 'no_key' : 'malformed';
      return this.refuse(ws, reason, CloseCode.Unauthorized, refusalText(reason));
    }
    const keyName = Buffer.from(view.buffer, view.byteOffset + start, length).toString('latin1');
    const nonce = challengeNonce(challengeBytes);
    ws.getUserData().challenge = { keyName, clientId, nonce };
    const frame = new Uint8Array(frameHeaderBytes + challengeBytes);
    writeHeader(new DataView(frame.buffer), 0, FrameType.Challenge, view.getUint32(4, true));
    frame.set(nonce, frameHeaderBytes);
    ws.send(frame, true);
  }

  /**
   * Challenge login, step 2: check the proof; a wrong one closes with 4010. An Answer with no
   * challenge pending (a development node sends none: it welcomes a challenge Hello at once)
   * is out of place, as a second Hello is: 4002 (it was 4003, "unknown frame type 4").
   */
  onAnswer(ws: WebSocket<S>, view: DataView): void {
    const session = ws.getUserData();
    const challenge = session.challenge;
    const keys = this.node().keys;
    if (challenge === null || keys === null) {
      if (session.clientId === 0) {
        return this.refuse(ws, 'malformed', CloseCode.HelloRequired, 'send Hello first');
      }
      return this.refuse(ws, 'malformed', CloseCode.Malformed, 'Answer with no challenge pending');
    }
    session.challenge = null;
    const proof = new Uint8Array(view.buffer, view.byteOffset + frameHeaderBytes);
    const { keyName, clientId, nonce } = challenge;
    const grant = keys.verifyProof(keyName, clientId, nonce, proof);
    this.finish(ws, view.getUint32(4, true), clientId, grant ?? keys.refusal(keyName, clientId));
  }

  /** The grant of the Hello's API key (which must belong to `clientId`), or why it is refused. */
  private authenticate(view: DataView, clientId: number): Grant | LoginFailureReason {
    const keys = this.node().keys;
    if (keys === null) return openGrant(clientId);
    if (view.byteLength < frameHeaderBytes + 8) return 'no_key';
    const length = view.getUint16(frameHeaderBytes + 4, true);
    const start = frameHeaderBytes + 8;
    if (length === 0) return 'no_key';
    if (start + length > view.byteLength) return 'malformed';
    const token = Buffer.from(view.buffer, view.byteOffset + start, length).toString('latin1');
    const grant = keys.verify(token);
    if (grant === null) return keys.refusal(token, clientId);
    return grant.clientId === clientId ? grant : 'wrong_client';
  }
}

/**
 * The close reason of a refused key. What the client sent itself (no key, or one not shaped
 * `bk_<id>_<secret>`) is said: a developer who connected without `apiKey` to a node with keys
 * read only "API key refused". Whether a key id exists, or whose it is, is not.
 */
function refusalText(reason: LoginFailureReason): string {
  if (reason === 'no_key') return 'API key refused: none sent, and this node requires keys';
  if (reason === 'malformed') return 'API key refused: malformed (keys read bk_<id>_<secret>)';
  return 'API key refused';
}
