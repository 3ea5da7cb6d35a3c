/**
 * API keys on HTTP: the bearer token of each request checked against the keys as they now
 * are, and a refused one counted as a refused login (login-failures.ts), by reason and remote
 * address. Only WebSocket logins were counted: an audit sent 9,800 wrong keys in 2 s to GET
 * /balances and /metrics, and the log, showed none of them.
 *
 *   request ──Authorization: Bearer <key>──► grant of the key ──► allowed?
 *                                        └─► refused ──► note(reason, address)
 *
 * A request without a key is not counted (a 401, not a guess); nor is a valid key asking for
 * what it does not grant (a 403 as for a Forbidden frame).
 */
import { accountRefusal, openGrant, type Grant, type KeyRing } from './api-keys.js';
import { remoteAddress } from './admission.js';
import type { LoginFailureReason, LoginFailures } from './login-failures.js';
import type { HttpResponse } from './uws.js';
import { splitApiKey } from '../protocol/login.js';

export class HttpKeys {
  constructor(
    /** The keys as they now are (null: development mode, every request admin). */
    private readonly keys: () => KeyRing | null,
    private readonly failures: () => LoginFailures,
  ) {}

  /**
   * The grant of `token` for a request acting as `clientId` (0: any), or null when refused;
   * a refused key is counted. `res` must not be aborted (its address is read on a refusal).
   */
  grant(token: string, res: HttpResponse, clientId = 0): Grant | null {
    const keys = this.keys();
    if (keys === null) return openGrant(clientId);
    if (token === '') return null;
    const grant = keys.verify(token);
    if (grant !== null && (clientId === 0 || grant.clientId === clientId)) return grant;
    this.failures().note(refusal(keys, token, grant), remoteAddress(res));
    return null;
  }

  /**
   * Why `token` may not read the journal, which holds every client's events (admin keys), or
   * null when it may.
   */
  journalReadRefusal(token: string, res: HttpResponse): string | null {
    const grant = this.grant(token, res);
    if (grant === null) return httpKeyRefused;
    return grant.admin ? null : 'the journal needs an admin key';
  }

  /** Why `token` may not read `account` (a key granting it, or an admin key), or null. */
  accountReadRefusal(token: string, account: number, res: HttpResponse): string | null {
    const grant = this.grant(token, res);
    if (grant === null) return httpKeyRefused;
    return grant.admin || grant.accounts.has(account) ? null : accountRefusal(account);
  }
}

/**
 * A key sent and not taken at all (malformed, unknown, wrong secret, revoked), said as a login
 * says it (login.ts: not which). It was answered as a good key's missing grant ("it does not
 * grant account 1", "the journal needs an admin key"): a mistyped key read as a wrong grant.
 */
export const httpKeyRefused = 'API key refused';

/** Why a bearer token was refused: `grant` is its key's when that key is another client's. */
function refusal(keys: KeyRing, token: string, grant: Grant | null): LoginFailureReason {
  if (grant !== null) return 'wrong_client';
  // Not `bk_<id>_<secret>` (refusal() would take `bk_<id>` alone for a challenge login's).
  if (splitApiKey(token) === null) return 'malformed';
  return keys.refusal(token, 0);
}
