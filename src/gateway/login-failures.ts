/**
 * Refused logins, for the operator: counted by reason (`bourse_login_failures_total{reason}`
 * on /metrics) and summed up in at most one warn line per loginFailureLogMs, with the remote
 * addresses that failed most. A hostile-input audit sent 5,300 failed logins (wrong keys,
 * wrong challenge answers, 60 KB keys) in about 2 s, and the node counted and logged none.
 *
 *   a refusal ──note(reason, address)──► totals (read when /metrics is scraped)
 *                                    └─► this interval's counts ──(loginFailureLogMs)──► a line
 *
 * The line names reasons, counts and addresses only: never a key, a key id or a secret. Nothing
 * runs while no login fails: the timer starts with the first failure after a quiet interval.
 */
import { loginFailureAddressesMax, loginFailureLogMs } from '../constants.js';
import { assert } from '../stdx/assert.js';

/** Why a login was refused: the label set of bourse_login_failures_total, fixed. */
export const loginFailureReasons = [
  // A Hello or Answer that breaks the protocol: short, sent twice, a reserved client id, an
  // unknown login method, a key not shaped `bk_<id>_<secret>`, an Answer with no challenge.
  'malformed',
  'no_key', // the node has keys, and the Hello carried none
  'unknown_key', // no key on the ring has the id named
  'wrong_secret', // the key's id is known; its secret, or the challenge's proof, is wrong
  'wrong_client', // the key belongs to another client id
  'client_id_taken', // a session of the client id is open (4007)
  'read_sessions_full', // the client id holds every read session it may (4009)
  'timeout', // no login within loginTimeoutMs of opening (4001)
] as const;
export type LoginFailureReason = (typeof loginFailureReasons)[number];

/** Addresses the summary line names, most failures first. */
const addressesShown = 3;

export class LoginFailures {
  /** Since the node started, by index in loginFailureReasons. */
  private readonly totals = new Float64Array(loginFailureReasons.length);
  /** Since the last summary line. */
  private readonly recent = new Float64Array(loginFailureReasons.length);
  /** This interval's failures by address: loginFailureAddressesMax of them, then `others`. */
  private readonly byAddress = new Map<string, number>();
  private others = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly log: (line: string, level: 'warn') => void,
    /** How long an interval lasts (ms): loginFailureLogMs, shorter in tests. */
    private readonly intervalMs = loginFailureLogMs,
  ) {}

  /** A login refused for `reason`, from `address`. */
  note(reason: LoginFailureReason, address: string): void {
    const index = loginFailureReasons.indexOf(reason);
    assert(index >= 0, 'login-failures: a known reason');
    this.totals[index]++;
    this.recent[index]++;
    const held = this.byAddress.get(address);
    if (held !== undefined) this.byAddress.set(address, held + 1);
    else if (this.byAddress.size < loginFailureAddressesMax) this.byAddress.set(address, 1);
    else this.others++;
    this.timer ??= setTimeout(() => this.summarize(), this.intervalMs).unref();
  }

  /** Logins refused for `reason` since the node started. */
  total(reason: LoginFailureReason): number {
    return this.totals[loginFailureReasons.indexOf(reason)];
  }

  /** The node is stopping: this interval's line now, and no timer left behind. */
  stop(): void {
    if (this.timer === null) return;
    clearTimeout(this.timer);
    this.summarize();
  }

  /** Writes the interval's line and starts counting the next one. */
  private summarize(): void {
    this.timer = null;
    const reasons: string[] = [];
    let count = 0;
    for (let i = 0; i < loginFailureReasons.length; i++) {
      if (this.recent[i] === 0) continue;
      reasons.push(`${loginFailureReasons[i]} ${this.recent[i]}`);
      count += this.recent[i];
    }
    assert(count > 0, 'login-failures: a line only when some failed');
    const top = [...this.byAddress].sort((a, b) => b[1] - a[1]).slice(0, addressesShown);
    const from = top.map(([address, n]) => `${address} ${n}`);
    if (this.others > 0) from.push(`${this.others} from further addresses`);
    const seconds = this.intervalMs / 1000;
    const line =
      `logins refused in the last ${seconds} s: ${count} (${reasons.join(', ')}); ` +
      `from ${plural(this.byAddress.size, 'address', 'addresses')}, most: ${from.join(', ')}`;
    this.recent.fill(0);
    this.byAddress.clear();
    this.others = 0;
    this.log(line, 'warn');
  }
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}
