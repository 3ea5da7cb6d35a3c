/**
 * API keys. A key is bound to one client id and grants either admin rights or a set of
 * accounts. Clients present `bk_<id>_<secret>` in Hello; the data folder keeps only each
 * secret's stored key, SHA-256(SHA-256(secret)) (`<data>/keys.json` version 2, mode 0600),
 * compared in constant time: it checks a key or a challenge proof, but signs no proof itself
 * (protocol/login.ts). Secrets are shown once, when `bourse keys create` makes them, and never
 * logged. Version 1 files kept SHA-256(secret), which does sign proofs: they are still read
 * (each hash taken on to its stored key), warned of, and rewritten by `bourse keys upgrade`.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, type Stats, unwatchFile, watchFile } from 'node:fs';
import { join } from 'node:path';
import { exposedMode, replaceFile } from './replace-file.js';
import { keyIdDrawsMax, keysReloadPollMs } from '../constants.js';
import { assert } from '../stdx/assert.js';
import { CommandKind } from '../protocol/command-layout.js';
import { clientIdMax, isClientId } from '../protocol/command-writer.js';
import { commandKindName } from '../protocol/event-reader.js';
import { clientKey, proofHolds, splitApiKey, storedKey } from '../protocol/login.js';
import type { LoginFailureReason } from './login-failures.js';

export interface KeyRecord {
  id: string;
  /** SHA-256(SHA-256(secret)), hex. */
  stored: string;
  clientId: number;
  admin: boolean;
  accounts: number[];
  created: string;
}

export interface KeyFile {
  /** The version read (1: the records held SHA-256(secret), taken on to `stored`); 2 written. */
  version: 1 | 2;
  keys: KeyRecord[];
}

/** What a session may do. */
export interface Grant {
  clientId: number;
  admin: boolean;
  accounts: ReadonlySet<number>;
  /** The key it logged in with (null: development mode, no keys). */
  keyId: string | null;
  /** That key's stored key when it logged in: a secret replaced since ends the session. */
  keyStored: string | null;
}

export function keyFilePath(dataDir: string): string {
  return join(dataDir, 'keys.json');
}

/**
 * A key file that cannot be used: its path and what is wrong. The CLI exits 65 (data), or 73
 * when the file could not be read at all (`unreadable`), as for other files it may not read.
 */
export class KeyFileError extends Error {
  override readonly name = 'KeyFileError';
  constructor(
    message: string,
    readonly unreadable = false,
  ) {
    super(message);
  }
}

/**
 * The key file, or null when the folder has none (development mode: no authentication).
 * @throws KeyFileError when it is not readable, not JSON or a record is malformed: a key file
 * edited by hand must never grant what it does not say (a client id of "7", accounts as a
 * string).
 */
export function readKeyFile(dataDir: string): KeyFile | null {
  const path = keyFilePath(dataDir);
  if (!existsSync(path)) return null;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    // A file this user may not read (mode 0600, another owner) was told "not JSON (EACCES)".
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    const why = `${path}: not readable (${code}); run as the user the node runs as (0600)`;
    throw new KeyFileError(why, true);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new KeyFileError(`${path}: not JSON (${(error as Error).message})`);
  }
  const file = parsed as KeyFile | null;
  const version = file?.version;
  if (file === null || (version !== 1 && version !== 2) || !Array.isArray(file.keys)) {
    throw new KeyFileError(`${path} is not a bourse key file (version 1 or 2)`);
  }
  const ids = new Set<string>();
  file.keys.forEach((key, i) => {
    const problem = keyRecordProblem(key, version);
    if (problem !== null) throw new KeyFileError(`${path}: key ${i + 1}: ${problem}`);
    if (ids.has(key.id)) throw new KeyFileError(`${path}: key id ${key.id} twice`);
    ids.add(key.id);
  });
  return { version, keys: file.keys.map((key) => (version === 1 ? fromVersion1(key) : key)) };
}

/** A version 1 record: its SHA-256(secret) taken on to the stored key, and dropped. */
function fromVersion1(key: KeyRecord): KeyRecord {
  const { sha256, ...rest } = key as KeyRecord & { sha256: string };
  return { ...rest, stored: storedKey(Buffer.from(sha256, 'hex')).toString('hex') };
}

/**
 * A client id releases before 2026-12-05 let keys have (up to 4294967294) that the node now
 * keeps for itself (timerClientId, disconnectClientId). Such a key still loads, so that `start`
 * and `keys list` / `revoke` work on the folder, but logs in nowhere: Hello and HTTP refuse the
 * id (4006, 400) as they refuse any id past clientIdMax.
 */
function retiredClientId(id: unknown): boolean {
  return Number.isInteger(id) && (id as number) > clientIdMax && (id as number) <= 0xffff_fffe;
}

/** What is wrong with one stored key, or null. */
function keyRecordProblem(key: KeyRecord, version: 1 | 2): string | null {
  if (typeof key !== 'object' || key === null) return 'not an object';
  if (typeof key.id !== 'string' || !/^[0-9a-f]{8}$/.test(key.id)) return 'id: 8 hex digits';
  const field = version === 1 ? 'sha256' : 'stored';
  const hash = (key as unknown as Record<string, unknown>)[field];
  if (typeof hash !== 'string' || !/^[0-9a-f]{64}$/.test(hash)) return `${field}: 64 hex digits`;
  if (!isClientId(key.clientId) && !retiredClientId(key.clientId)) {
    return `clientId: a whole number from 1 to ${clientIdMax}`;
  }
  if (typeof key.admin !== 'boolean') return 'admin: true or false';
  const accounts = key.accounts as unknown;
  if (!Array.isArray(accounts) || !accounts.every((a) => Number.isSafeInteger(a) && a >= 1)) {
    return 'accounts: a list of account ids (whole numbers, 1 or more)';
  }
  if (!key.admin && accounts.length === 0) return 'grants nothing (not admin, no accounts)';
  return null;
}

/**
 * What is wrong with how the key file is kept: group or others may read or write it (whoever
 * may write it grants themselves keys; a stored key read is one offline guess at a secret), or
 * it is version 1, whose hashes log in by challenge as they are. `bourse keys` writes it 0600,
 * version 2; one copied in by hand, or from a volume, or older, may not be, and nothing said so.
 */
export function keyFileWarnings(dataDir: string, file: KeyFile): string[] {
  const path = keyFilePath(dataDir);
  const warnings: string[] = [];
  const mode = exposedMode(path);
  if (mode !== null) {
    warnings.push(`${path} is mode ${mode}: group or others may reach the API keys (chmod 600)`);
  }
  if (file.version === 1) {
    warnings.push(
      `${path} is version 1: whoever reads it can log in with its keys by challenge; ` +
        `\`bourse keys upgrade --data ${dataDir}\` rewrites it as version 2 (keys unchanged)`,
    );
  }
  return warnings;
}

/** Writes the key file, version 2, atomically (temp file, then rename), owner-only. */
export function writeKeyFile(dataDir: string, file: KeyFile): void {
  const keys = file.keys.map(({ id, stored, clientId, admin, accounts, created }) => {
    return { id, stored, clientId, admin, accounts, created };
  });
  const text = JSON.stringify({ version: 2, keys }, null, 2) + '\n';
  replaceFile(keyFilePath(dataDir), text, 0o600);
}

/** Random bytes: node:crypto's randomBytes, or a test's fixed ones. */
export type RandomSource = (size: number) => Buffer;

/**
 * Makes a key whose id is none of `taken` (the ids in keys.json); returns its record (to store)
 * and the token (to show once). Ids stay 8 hex digits (4 random bytes): the protocol and every
 * SDK take exactly that (docs/PROTOCOL.md, the proof byte by byte). An id is a name, not a secret:
 * what must hold is that no two keys share one, and a file with an id twice stops the next start
 * (exit 65) while the running node keeps its old keys. Drawn blind it did reach that: 1% odds of
 * a clash by 9,300 keys.
 * @throws Error when keyIdDrawsMax draws all hit `taken` (a broken random source).
 */
export function createKey(
  clientId: number,
  admin: boolean,
  accounts: number[],
  taken: ReadonlySet<string> = new Set(),
  random: RandomSource = randomBytes,
): { record: KeyRecord; token: string } {
  const id = freshKeyId(taken, random);
  const secret = random(24).toString('base64url');
  assert(secret.length === 32, 'a secret is 24 random bytes, 32 in base64url');
  const record: KeyRecord = {
    id,
    stored: storedKey(clientKey(secret)).toString('hex'),
    clientId,
    admin,
    accounts,
    created: new Date().toISOString(),
  };
  return { record, token: `bk_${id}_${secret}` };
}

/** A random key id not in `taken`; at most keyIdDrawsMax draws. */
function freshKeyId(taken: ReadonlySet<string>, random: RandomSource): string {
  for (let draw = 0; draw < keyIdDrawsMax; draw++) {
    const id = random(4).toString('hex');
    assert(/^[0-9a-f]{8}$/.test(id), 'a key id is 4 random bytes, 8 hex digits');
    if (!taken.has(id)) return id;
  }
  throw new Error(
    `${keyIdDrawsMax} key ids drawn at random were all among the ` +
      `${taken.size} in use: the random source is broken; no key made`,
  );
}

/**
 * Watches the key file (`bourse keys create` and `revoke` rewrite it, by rename) and calls
 * `changed` after each change, polling its stat every keysReloadPollMs. Returns the stop.
 */
export function watchKeyFile(dataDir: string, changed: () => void): () => void {
  const path = keyFilePath(dataDir);
  // Polling a file that does not exist reports it once as changed (from nothing to nothing).
  const listener = (now: Stats, before: Stats): void => {
    if (now.mtimeMs !== 0 || before.mtimeMs !== 0) changed();
  };
  watchFile(path, { interval: keysReloadPollMs, persistent: false }, listener);
  return () => unwatchFile(path, listener);
}

/** Checks tokens against the stored keys; `replace` swaps them while the node runs. */
export class KeyRing {
  private readonly byId = new Map<string, KeyRecord>();

  constructor(file: KeyFile) {
    this.replace(file);
  }

  /** Takes the keys of `file` instead (logins from now on; sessions: see Gateway). */
  replace(file: KeyFile): void {
    this.byId.clear();
    for (const key of file.keys) this.byId.set(key.id, key);
  }

  /** Whether key `keyId` is still on the ring. */
  has(keyId: string): boolean {
    return this.byId.has(keyId);
  }

  /**
   * Whether a session's `grant` still holds: its key is on the ring with the same secret and
   * client id, and grants at least as much (admin still, every account still). A key edited to
   * grant less must not go on acting, through sessions opened before, as it did: only removing
   * it closed them. A key that grants more keeps its sessions (they gain only at their next login).
   */
  stillGrants(grant: Grant): boolean {
    const record = grant.keyId === null ? undefined : this.byId.get(grant.keyId);
    if (record === undefined) return false;
    if (record.stored !== grant.keyStored || record.clientId !== grant.clientId) return false;
    if (grant.admin && !record.admin) return false;
    const accounts = new Set(record.accounts);
    for (const account of grant.accounts) if (!accounts.has(account)) return false;
    return true;
  }

  /** The grant of a valid token, or null. Constant-time in the secret. */
  verify(token: string): Grant | null {
    const key = splitApiKey(token);
    if (key === null) return null;
    const record = this.byId.get(key.id);
    if (record === undefined) return null;
    const want = Buffer.from(record.stored, 'hex');
    const got = storedKey(clientKey(key.secret));
    if (want.byteLength !== got.byteLength || !timingSafeEqual(want, got)) return null;
    return grantOf(record);
  }

  /**
   * The grant of a challenge login: key id `bk_<id>`, the nonce sent, and the client's proof
   * (`loginProof`, checked by `proofHolds`). Null for an unknown id, another client's key, or
   * a wrong proof; the proof is checked in constant time.
   */
  verifyProof(
    keyName: string,
    clientId: number,
    nonce: Uint8Array,
    proof: Uint8Array,
  ): Grant | null {
    const record = this.named(keyName);
    if (record === undefined || record.clientId !== clientId) return null;
    if (!proofHolds(Buffer.from(record.stored, 'hex'), nonce, clientId, proof)) return null;
    return grantOf(record);
  }

  /**
   * Why verify() refused `token`, or verifyProof() a proof for key `bk_<id>` and `clientId`:
   * for the count of refused logins (login-failures.ts), never told to the client.
   */
  refusal(token: string, clientId: number): LoginFailureReason {
    const key = splitApiKey(token);
    if (key !== null) return this.byId.has(key.id) ? 'wrong_secret' : 'unknown_key';
    if (!/^bk_[0-9a-f]{8}$/.test(token)) return 'malformed';
    const record = this.named(token);
    if (record === undefined) return 'unknown_key';
    return record.clientId === clientId ? 'wrong_secret' : 'wrong_client';
  }

  /** The key named `bk_<id>` (a challenge login's Hello), if on the ring. */
  private named(keyName: string): KeyRecord | undefined {
    const match = /^bk_([0-9a-f]{8})$/.exec(keyName);
    return match === null ? undefined : this.byId.get(match[1]);
  }
}

function grantOf(record: KeyRecord): Grant {
  const accounts = new Set(record.accounts);
  const { clientId, admin, id: keyId, stored: keyStored } = record;
  return { clientId, admin, accounts, keyId, keyStored };
}

/** A fresh nonce for a Challenge. */
export function challengeNonce(bytes: number): Buffer {
  return randomBytes(bytes);
}

/** The grant every session gets when the data folder has no key file. */
export function openGrant(clientId: number): Grant {
  return { clientId, admin: true, accounts: new Set(), keyId: null, keyStored: null };
}

/**
 * Why `grant` may not send a command of `kind` naming `account` (and `ref`, read for
 * CancelClientOrders: the client whose orders go), or null when it may. The refusal said only
 * "not allowed for this API key": a market maker whose frame held a quote for one account too
 * many could not tell which command or account it was.
 */
export function commandRefusal(
  grant: Grant,
  kind: number,
  account: number,
  ref: number,
): string | null {
  if (grant.admin) return null;
  if (adminOnly(kind))
    return `not allowed for this API key: ${commandKindName(kind)} needs an admin key`;
  // Names no account: its own client's orders only, wherever they rest.
  if (kind === CommandKind.CancelClientOrders) {
    if (ref === grant.clientId) return null;
    const own = grant.clientId;
    return `not allowed for this API key: it cancels client ${own}'s orders, not ${ref}'s`;
  }
  if (!grant.accounts.has(account)) return accountRefusal(account);
  return null;
}

/** Why a key that does not grant `account` may not act on it or read it. */
export function accountRefusal(account: number): string {
  return `not allowed for this API key: it does not grant account ${account}`;
}

/** Command kinds only an admin key may send. */
export function adminOnly(kind: number): boolean {
  return (
    kind === CommandKind.CreateAccount ||
    kind === CommandKind.AddAsset ||
    kind === CommandKind.Deposit ||
    kind === CommandKind.Withdraw ||
    kind === CommandKind.AddInstrument ||
    kind === CommandKind.HaltInstrument ||
    kind === CommandKind.ResumeInstrument ||
    kind === CommandKind.Tick
  );
}
