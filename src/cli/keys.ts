/**
 * `bourse keys`: API keys in `<data>/keys.json`. `create` shows the new key once; the file keeps
 * only its stored key (gateway/api-keys.ts); `upgrade` rewrites a version 1 file. A running
 * node takes a change within a second (it polls the file), the first key too (development mode
 * ends).
 *
 * `--data` may name a node's folder or a local cluster's (the folder `bourse cluster` made: a
 * cluster.json and one member-<id> folder per member). A cluster's keys go to every member's
 * folder, the same record in each: after a failover the new primary knows every key the old
 * one did. Every file is read and checked before any is written.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { clusterFileName } from '../constants.js';
import {
  createKey,
  keyFilePath,
  readKeyFile,
  writeKeyFile,
  type KeyFile,
  type KeyRecord,
  type RandomSource,
} from '../gateway/api-keys.js';
import { clientIdMax, isClientId } from '../protocol/command-writer.js';
import { memberDataDir, readClusterFile } from './cluster-file.js';
import { table, UsageError } from './output.js';
import { StorageCode, StorageError, writeFailure } from '../journal/journal-errors.js';
import { createFolder } from '../journal/make-dirs.js';
import { closeJournalDb, dataFile, openJournalDb, refuseFile } from '../journal/journal-db.js';
import { memberBackupRefusal } from '../journal/member-folder.js';
import { withKeysLock } from './keys-lock.js';

export interface CreateKeyOptions {
  data: string;
  client: number;
  admin?: boolean;
  accounts?: string;
  /** A client id another key holds with other grants is refused without this. */
  shareClient?: boolean;
}

/** One folder a keys command reads or changes: a node's, or a cluster member's. */
interface KeyFolder {
  dir: string;
  /** 'node', or 'member <id>'. */
  name: string;
  file: KeyFile | null;
}

/**
 * The folders `data` stands for, each with its key file read and checked. `list` and `revoke`
 * need the folder to exist (exit 66): a mistyped path said "no keys" (exit 0) or "no key"
 * (exit 64), as if it were a node's folder without them. `create` makes it.
 */
function keyFolders(data: string, mustExist: boolean): KeyFolder[] {
  refuseFile(data); // 66, as start, replay, verify, inspect and cluster say it (keys said 64)
  if (mustExist && !existsSync(data)) {
    throw new StorageError(StorageCode.DataMissing, `data folder ${data} does not exist`);
  }
  const clusterPath = join(data, clusterFileName);
  if (!existsSync(clusterPath)) return [{ dir: data, name: 'node', file: readKeyFile(data) }];
  return readClusterFile(clusterPath).members.map((m) => {
    const dir = memberDataDir(data, m.id);
    return { dir, name: `member ${m.id}`, file: readKeyFile(dir) };
  });
}

/**
 * Refuses to change the keys of a backup of a member's folder (exit 65, as `bourse member`
 * refuses to run on one): nothing runs on it, so a key made there let no one in and one revoked
 * there still opened the member it came from, each said as done ("what runs on this folder
 * takes it"). The operator meant the member's own folder. A folder whose journal does not open
 * is left to start to refuse: its keys were changed before, and still are.
 * @throws StorageError MEMBER_BACKUP
 */
function refuseMemberBackup(folder: KeyFolder): void {
  if (!existsSync(dataFile(folder.dir))) return;
  let refusal: StorageError | null;
  try {
    const db = openJournalDb(folder.dir, { create: false, readOnly: true, snapshots: false });
    try {
      refusal = memberBackupRefusal(db, folder.dir, 'keys');
    } finally {
      void closeJournalDb(db);
    }
  } catch {
    return; // not a journal that opens: no mark to read
  }
  if (refusal !== null) throw refusal;
}

/**
 * Makes a key and adds it to every folder's key file. Its id is none of the ids in any of
 * them (a member may hold a key the others lost): a clash was written before, and the next
 * start refused the file (exit 65). `random`: tests give fixed bytes.
 */
export function createKeyCommand(options: CreateKeyOptions, random?: RandomSource): void {
  if (!isClientId(options.client)) {
    throw new UsageError(`--client: a client id from 1 to ${clientIdMax}`);
  }
  const accounts = parseAccounts(options.accounts ?? '');
  if (options.admin !== true && accounts.length === 0) {
    throw new UsageError('give --admin or --accounts 1,2,... (what the key may act on)');
  }
  if (options.admin === true && accounts.length > 0) {
    // Taken silently before: the key acted on every account, not the ones named.
    throw new UsageError(
      'give --admin or --accounts, not both: an admin key acts on every account',
    );
  }
  refuseFile(options.data);
  const made = withKeysLock(options.data, true, () => addKey(options, accounts, random));
  const { folders, record, token, sharing } = made;
  const first = folders.some((f) => f.file === null);
  // A mistyped --data was made and keyed without a word, and the running node stayed keyless.
  const unused = folders.every((f) => !existsSync(dataFile(f.dir)));
  const effect = unused
    ? 'No node has run on this folder yet (no journal.mdb): one started on it requires keys. ' +
      "If a running node's folder was meant, check --data.\n"
    : first
      ? 'What runs on this folder requires keys within a second (sessions without one closed).\n'
      : 'What runs on this folder takes it within a second.\n';
  process.stdout.write(
    `${token}\n` +
      `key ${record.id} for client ${record.clientId} ` +
      `(${record.admin ? 'admin' : `accounts ${accounts.join(',')}`}) saved in ` +
      `${folders.map((f) => keyFilePath(f.dir)).join(', ')}. ` +
      'This is the only time the key is shown. ' +
      effect +
      sharedNote(sharing, options.client),
  );
}

/** What addKey made and where, for the message. */
interface Added {
  folders: KeyFolder[];
  record: KeyRecord;
  token: string;
  sharing: Sharers;
}

/** Reads every folder's keys, makes the key and writes it into each (the keys lock held). */
function addKey(options: CreateKeyOptions, accounts: number[], random?: RandomSource): Added {
  const folders = keyFolders(options.data, false);
  for (const folder of folders) refuseMemberBackup(folder);
  const taken = new Set(folders.flatMap((f) => f.file?.keys.map((k) => k.id) ?? []));
  const admin = options.admin === true;
  const sharing = clientSharers(folders, options.client, admin, accounts);
  if (sharing.other.length > 0 && options.shareClient !== true) {
    throw new UsageError(
      `client ${options.client} is held by key ${sharing.other.join(', ')} with other ` +
        'grants. Keys of one client id act as one client: one run of client sequences, one ' +
        "set of orders, and each may cancel the other's orders (CancelClientOrders, cancel " +
        'on disconnect) on accounts it does not grant. Give another --client, the same ' +
        'grants (a rotation), or --share-client',
    );
  }
  const { record, token } = createKey(options.client, admin, accounts, taken, random);
  for (const folder of folders) {
    createFolder(folder.dir);
    const file: KeyFile = folder.file ?? { version: 2, keys: [] };
    file.keys.push(record);
    saveKeyFile(folder.dir, file);
  }
  return { folders, record, token, sharing };
}

interface Sharers {
  /** Keys of the client id with the same grants (a rotation). */
  same: string[];
  /** Keys of the client id with other grants. */
  other: string[];
}

/** The keys in any folder that hold `client` already, by whether their grants are these. */
function clientSharers(
  folders: KeyFolder[],
  client: number,
  admin: boolean,
  accounts: number[],
): Sharers {
  const grants = (a: boolean, list: readonly number[]): string =>
    a ? 'admin' : [...list].sort((x, y) => x - y).join(',');
  const wanted = grants(admin, accounts);
  const same = new Set<string>();
  const other = new Set<string>();
  for (const folder of folders) {
    for (const key of folder.file?.keys ?? []) {
      if (key.clientId !== client) continue;
      (grants(key.admin, key.accounts) === wanted ? same : other).add(key.id);
    }
  }
  return { same: [...same], other: [...other] };
}

function sharedNote(sharing: Sharers, client: number): string {
  const keys = [...sharing.same, ...sharing.other];
  if (keys.length === 0) return '';
  return (
    `Key ${keys.join(', ')} holds client ${client} too: the keys act as one client ` +
    '(one session at a time; revoke the old key once clients use the new one).\n'
  );
}

function parseAccounts(text: string): number[] {
  if (text === '') return [];
  const accounts = text.split(',').map((part) => {
    const value = Number(part.trim());
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new UsageError(`--accounts: '${part}' is not an account id`);
    }
    return value;
  });
  const twice = accounts.find((a, i) => accounts.indexOf(a) !== i);
  if (twice !== undefined) throw new UsageError(`--accounts: ${twice} is named twice`);
  return accounts;
}

export function listKeysCommand(data: string): void {
  const folders = keyFolders(data, true);
  const rows = new Map<string, Record<string, string | number>>();
  const holders = new Map<string, string[]>();
  for (const folder of folders) {
    for (const k of folder.file?.keys ?? []) {
      rows.set(k.id, {
        id: k.id,
        client: k.clientId,
        grants: k.admin ? 'admin' : `accounts ${k.accounts.join(',')}`,
        created: k.created,
      });
      holders.set(k.id, [...(holders.get(k.id) ?? []), folder.name]);
    }
  }
  if (rows.size === 0) {
    const where = folders.map((f) => keyFilePath(f.dir)).join(', ');
    // A key file with no key left (the last revoked) is not development mode: every login is
    // refused. Said "the node runs without them" before.
    const how = folders.every((f) => f.file === null)
      ? 'the node runs without them (development mode: every session is admin)'
      : 'every login is refused until a key is created';
    process.stdout.write(`no keys in ${where}: ${how}\n`);
    return;
  }
  if (folders.length > 1) {
    // A key some members lack logs in on those only: name them, so the operator can mend it.
    for (const [id, row] of rows) {
      const held = holders.get(id) ?? [];
      row.members = held.length === folders.length ? 'all' : `only ${held.join(', ')}`;
    }
  }
  process.stdout.write(table([...rows.values()]) + '\n');
}

/** writeKeyFile, its disk's failures told as such (exit 74 for a full disk, 73 read-only). */
function saveKeyFile(dir: string, file: KeyFile): void {
  try {
    writeKeyFile(dir, file);
  } catch (error) {
    throw writeFailure(error, keyFilePath(dir));
  }
}

/**
 * Rewrites every version 1 key file under `data` as version 2: the same keys, each SHA-256(secret)
 * (which logs in by challenge as it is) replaced by its stored key (which does not). Clients
 * keep their keys. A file already at version 2 is left alone.
 */
export function upgradeKeysCommand(data: string): void {
  refuseFile(data);
  const folders = withKeysLock(data, false, () => {
    const old = keyFolders(data, true).filter((f) => f.file?.version === 1);
    for (const folder of old) refuseMemberBackup(folder);
    for (const folder of old) saveKeyFile(folder.dir, folder.file as KeyFile);
    return old;
  });
  const paths = folders.map((f) => keyFilePath(f.dir)).join(', ');
  process.stdout.write(
    folders.length === 0
      ? `no version 1 key file under ${data}: nothing to do\n`
      : `rewrote ${paths} as version 2 (the same keys; what runs there takes it within a second)\n`,
  );
}

export function revokeKeyCommand(data: string, id: string): void {
  refuseFile(data);
  const folders = withKeysLock(data, false, () => removeKey(data, id));
  process.stdout.write(
    `revoked key ${id} in ${folders.map((f) => keyFilePath(f.dir)).join(', ')}; what runs ` +
      `there refuses it within a second and closes its sessions\n`,
  );
}

/** Takes key `id` out of every folder's file that holds it (the keys lock held). */
function removeKey(data: string, id: string): KeyFolder[] {
  const folders = keyFolders(data, true).filter((f) => f.file?.keys.some((k) => k.id === id));
  if (folders.length === 0) {
    throw new UsageError(`no key ${id} under ${data} (see bourse keys list)`);
  }
  for (const folder of folders) refuseMemberBackup(folder);
  for (const folder of folders) {
    const file = folder.file as KeyFile;
    file.keys = file.keys.filter((k) => k.id !== id);
    saveKeyFile(folder.dir, file);
  }
  return folders;
}
