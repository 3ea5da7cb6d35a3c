/**
 * Whose data folder this is, as its meta table says: a cluster member's (its id, stored at its
 * first start as a member; a folder from before ids were stored holds only the flag `member`),
 * a backup of a member's folder (`bourse backup` marks the copy), or a single node's.
 *
 * A backup of a member's folder runs as nothing. Started as the member it came from, it would
 * vote as if it still held what it acknowledged after the backup was taken: the others count
 * those votes and acknowledgements toward majorities that no longer hold, and nothing else
 * tells, the member id being its own (docs/ROLES.md). Before the mark, `bourse member` started
 * on one without a word. Started as a single node, its journal may end with batches never
 * committed. verify, inspect and replay read it.
 */
import { statSync } from 'node:fs';
import { closeJournalDb, openJournalDb, writeMeta, type JournalDb } from './journal-db.js';
import { StorageCode, StorageError } from './journal-errors.js';

/** The meta key of a member's folder's backup: the member's id (memberOfFolder). */
const memberBackupKey = 'backup-of-member';

/** The member whose folder `db` is: its id, 'unknown' (only the flag), or null (none). */
export function memberOfFolder(db: JournalDb): string | null {
  const id = db.meta.get('member-id');
  if (id !== undefined) return id;
  return wasMember(db) ? 'unknown' : null;
}

/** Whether this folder has been part of its cluster: the flag a vote or recovery writes. */
export function wasMember(db: JournalDb): boolean {
  return db.meta.get('member') === '1';
}

/**
 * Marks the copy in `dir` (a backup, its mark of an unfinished backup still there) as a backup
 * of `member`'s folder: a synchronous LMDB commit, fsynced when it returns.
 * @throws StorageError (writeFailure's) when the write fails.
 */
export async function markMemberBackup(dir: string, member: string): Promise<void> {
  const db = openJournalDb(dir, { create: false, readOnly: false, snapshots: false });
  try {
    writeMeta(db, 'the mark of a member backup', () => db.meta.putSync(memberBackupKey, member));
  } finally {
    await closeJournalDb(db);
  }
}

/** Whether `db` is a backup of a member's folder (markMemberBackup): it has no standby log. */
export function isMemberBackup(db: JournalDb): boolean {
  return db.meta.get(memberBackupKey) !== undefined;
}

/** What a member's name is in a message: 'member 2', or 'a member'. */
function named(member: string): string {
  return member === 'unknown' ? 'a member' : `member ${member}`;
}

/** Why a backup of a member's folder is refused, by what was asked of it. */
const backupRefused = {
  member:
    'a member cannot start on it: it would vote as if it still held what it acknowledged ' +
    'after the backup was taken (docs/ROLES.md). Start the member on an empty folder ' +
    'instead: it catches up from the others',
  'single node':
    'a single node cannot start on it: its journal may end with batches never committed',
  keys:
    'no key is changed on it: nothing runs on it, so a key made there lets no one in, and one ' +
    "revoked there is still taken by the member it came from. Change the member's own folder's " +
    "keys (or its cluster folder's); `bourse keys list` reads these",
} as const;

/**
 * The refusal of a backup of a member's folder started as `as` (or its keys changed), or null
 * when the folder is no such backup: as a member MEMBER_BACKUP (exit 65, as a folder another
 * member wrote), as a single node CLUSTER_MEMBER (exit 64, as the member's own folder), its
 * keys MEMBER_BACKUP (exit 65).
 */
export function memberBackupRefusal(
  db: JournalDb,
  dataDir: string,
  as: keyof typeof backupRefused,
): StorageError | null {
  const member = db.meta.get(memberBackupKey);
  if (member === undefined) return null;
  return new StorageError(
    as === 'single node' ? StorageCode.ClusterMember : StorageCode.MemberBackup,
    `${dataDir} is a backup of ${named(member)}'s folder: ${backupRefused[as]}. ` +
      '`bourse verify`, `inspect` and `replay` read it',
  );
}

/**
 * The refusal of a member's folder, or a backup of one, started as a single node (`bourse
 * start`), or null. A member's journal may end with batches never committed on a majority, and
 * its snapshots may hold them: a single node would take them for the truth and part from the
 * cluster's history for good.
 */
export function singleNodeRefusal(db: JournalDb, dataDir: string): StorageError | null {
  const backup = memberBackupRefusal(db, dataDir, 'single node');
  // Its id alone says so too: a member that never voted nor lost its disk has no flag.
  const member = memberOfFolder(db);
  if (backup !== null || member === null) return backup;
  return new StorageError(
    StorageCode.ClusterMember,
    `data folder ${dataDir} belongs to a cluster member` +
      `${member === 'unknown' ? '' : `, member ${member}`} (its journal may end with ` +
      'batches never committed): run it with `bourse member` (or `bourse cluster`), or ' +
      'read it with `bourse replay`, `verify` or `inspect`',
  );
}

/**
 * A copy of a member's folder (`cp -a`, rsync, a cloned volume) carries no backup mark, and the
 * member id in it is its own: started as that member beside the original, or after the original
 * went on acknowledging, two folders voted and acknowledged as one member, and majorities
 * counted one of them twice. So each member start notes its journal file by inode: LMDB writes
 * journal.mdb in place and no bourse command replaces it, so only a copy is another file, with
 * the original's inode noted. A move within one file system keeps the inode. A folder that did
 * move (a new disk) is taken with `--folder-moved`, which notes its new inode; the folder it
 * came from must then never start again (nothing here can tell it). Not caught: a copy made
 * before its member first started on this version (each notes its own file), a file system
 * snapshot restored in place (the inode kept), and by chance a copy on another file system
 * given the same inode number. Device numbers are not compared: they change across reboots
 * (LVM, NFS), and a member refused after a reboot is an outage.
 */
export const memberFileKey = 'member-file-inode';

/** The inode of `db`'s journal file (journal.mdb), as text. */
function memberFileOf(db: JournalDb): string {
  return String(statSync(db.path, { bigint: true }).ino);
}

/** Notes `db`'s journal file as its member's (a start that claimMemberFolder let through). */
export function noteMemberFile(db: JournalDb): void {
  const inode = memberFileOf(db);
  if (db.meta.get(memberFileKey) === inode) return;
  writeMeta(db, 'the member file', () => db.meta.putSync(memberFileKey, inode));
}

/** The refusal of member `id`'s folder in `dataDir` when it is a copy (memberFileKey), or null. */
export function memberCopyRefusal(db: JournalDb, dataDir: string, id: number): StorageError | null {
  const noted = db.meta.get(memberFileKey);
  const inode = memberFileOf(db);
  if (noted === undefined || noted === inode) return null;
  return new StorageError(
    StorageCode.MemberCopy,
    `${dataDir} is a copy of member ${id}'s folder: its journal.mdb is not the file member ` +
      `${id} ran on (inode ${inode}, not ${noted}), and two folders started as member ${id} ` +
      'would each vote and acknowledge as it (docs/ROLES.md). Start member ' +
      `${id} on its own folder, or on an empty one, from which it catches up. If its folder ` +
      'was moved here (a new disk) and the one it came from will never start again, start it ' +
      'with --folder-moved',
  );
}
