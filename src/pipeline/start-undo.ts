/**
 * What a member's start wrote in its folder, taken back when the start fails before the member
 * served (a port taken: EADDRINUSE). Its id, its member flag and its capacities are stored
 * before its ports are bound (ReplicaStore.noteMemberId and setRecovering, storeConfig): a new
 * folder whose member found its port taken was left member 1's, so `bourse start` refused it
 * ever after ("belongs to a cluster member, member 1"), and `bourse member --id 2` refused it
 * as another member's (OTHER_MEMBER).
 *
 *   start ──FolderBefore.of (meta table, journal's last key)──► marks, config ──► bind ──✗
 *                                                      undoStart ◄── stop ◄──┘
 *
 * Put back only while the start did nothing a member must keep: no vote (term, votedFor), no
 * cluster id, no commit, no batch in the journal. A member that voted, or stored batches it
 * acknowledged, before its start failed is that member from then on: forgotten, it could vote
 * twice in one term, or count toward a majority that no longer holds (docs/ROLES.md). Nor when
 * the others said this empty folder's member lost its disk (`--bootstrap`, but another
 * member's journal holds events: formation-check.ts): its mark `recovering` is what the start
 * learnt from them, and the next start may not hear them (the whole cluster restarting at
 * once) and take the folder for a new member's, which votes without the data it acknowledged.
 * The transport's starts stay: they only grow (replay-window.ts), whatever starts there next.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { closeStorage, openStorage } from './node.js';
import { standbyLogFile } from '../replication/standby-log.js';
import type { JournalDb } from '../journal/journal-db.js';
import { memberFileKey } from '../journal/member-folder.js';

/** Meta keys a member writes once it acted as one: any changed, the folder stays its own. */
const actedKeys = ['term', 'votedFor', 'cluster-id', 'committed'] as const;

/** Meta keys that only grow (the transport's starts, its own and the others'): kept. */
function growing(key: string): boolean {
  return key === 'transport-start' || key.startsWith('peer-start-');
}

/** The folder as a member's start found it: its meta table (a few keys), its journal's end. */
export class FolderBefore {
  /** Set when the others' journals said this folder's member lost its disk (see above). */
  private lostDiskHeard = false;

  private constructor(
    private readonly meta: ReadonlyMap<string, string>,
    private readonly journalEnd: string,
    /** The standby log's file was there (a start makes it, 64 MiB: standby-log.ts). */
    readonly hadStandbyLog: boolean,
  ) {}

  static of(db: JournalDb, dataDir: string): FolderBefore {
    const hadLog = existsSync(join(dataDir, standbyLogFile));
    return new FolderBefore(metaOf(db), journalEndOf(db), hadLog);
  }

  /**
   * The start asked the others (`--bootstrap` on a folder no member's yet) and `isNew` says
   * what they answered: false, another member's journal holds events, so the folder lost its
   * disk, which the folder must keep saying (the file's comment).
   */
  bootstrapAnswered(isNew: boolean): void {
    this.lostDiskHeard = !isNew && this.meta.get('member') !== '1';
  }

  /** What the start did that the folder must keep (a line's end), or null: nothing. */
  kept(db: JournalDb): string | null {
    if (journalEndOf(db) !== this.journalEnd) return 'after it stored batches';
    for (const key of actedKeys) {
      if (db.meta.get(key) !== this.meta.get(key)) return 'after it voted or stored batches';
    }
    if (this.lostDiskHeard) return "after the others' journals said its folder lost its data";
    return null;
  }

  /**
   * Puts every key back as it was (the growing ones aside), in one synchronous commit. Returns
   * whether that put back another journal file as the member's: the start took a copy
   * (`--folder-moved`), which it no longer does (member-folder.ts memberCopyRefusal).
   */
  restore(db: JournalDb): boolean {
    const now = metaOf(db);
    const noted = this.meta.get(memberFileKey);
    const moveUndone = noted !== undefined && now.get(memberFileKey) !== noted;
    db.meta.transactionSync(() => {
      for (const key of now.keys()) {
        if (!growing(key) && !this.meta.has(key)) db.meta.removeSync(key);
      }
      for (const [key, value] of this.meta) {
        if (!growing(key) && now.get(key) !== value) db.meta.putSync(key, value);
      }
    });
    return moveUndone;
  }
}

/**
 * After member `id`'s start failed before it served (its storage closed): puts its folder back
 * as `before` found it when the start did nothing a member must keep. Returns what to log: the
 * folder left as it was, or why it is the member's now. Never throws: the start's own error is
 * the one to say (a failure here is said in the line).
 */
export async function undoStart(
  dataDir: string,
  before: FolderBefore,
  id: number,
): Promise<string> {
  const failed = `member ${id}: its start failed before it served`;
  let storage: ReturnType<typeof openStorage>;
  try {
    storage = openStorage(dataDir);
  } catch (error) {
    return `${failed}; its folder could not be put back as it was: ${(error as Error).message}`;
  }
  try {
    const kept = before.kept(storage.db);
    if (kept !== null) {
      return (
        `${failed}, but ${kept}: ${dataDir} is member ${id}'s folder now; start member ${id} ` +
        'on it again once the port is free'
      );
    }
    const left = `${failed}: its folder is left as it was (its id, flags and capacities as before)`;
    // The log this start made holds nothing: no batch came before it served (kept above).
    if (!before.hadStandbyLog) rmSync(join(dataDir, standbyLogFile), { force: true });
    if (!before.restore(storage.db)) return left;
    // Said, as the start's first line had said the copy taken: without the flag, the next start
    // is refused MEMBER_COPY. Put back, as the rest: the folder it came from may be the one
    // started next (the move given up), and two folders taken would vote as one member.
    return `${left}: --folder-moved was not taken: start member ${id} with --folder-moved again`;
  } catch (error) {
    return `${failed}; its folder could not be put back as it was: ${(error as Error).message}`;
  } finally {
    await closeStorage(storage.db, storage.lock);
  }
}

function metaOf(db: JournalDb): Map<string, string> {
  const meta = new Map<string, string>();
  for (const { key, value } of db.meta.getRange({})) meta.set(key, value);
  return meta;
}

/** The journal's last key, as hex ('' when empty): a batch stored moves it. */
function journalEndOf(db: JournalDb): string {
  for (const key of db.journal.getKeys({ reverse: true, limit: 1 })) return key.toString('hex');
  return '';
}
