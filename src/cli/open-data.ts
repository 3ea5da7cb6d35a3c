/**
 * Opening a data folder for the offline tools (replay, verify, inspect): read-only, with the
 * engine config the node last ran with, and the journal's end checked.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { clusterFileName, engineConfigDefault, type EngineConfig } from '../constants.js';
import {
  closeJournalDb,
  dataFile,
  openJournalDb,
  storedConfig,
  type JournalDb,
} from '../journal/journal-db.js';
import { journalFileLost, refuseLostJournal } from '../journal/lost-journal.js';
import { refuseUnfinishedBackup } from '../journal/unfinished-backup.js';
import { StorageCode, StorageError } from '../journal/journal-errors.js';
import { journalTail } from '../journal/journal-reader.js';
import type { JournalTail } from '../journal/journal-writer.js';
import type { StandbyLogPast } from '../pipeline/group-commit.js';

export interface OpenData {
  db: JournalDb;
  config: EngineConfig;
  tail: JournalTail;
}

/** `snapshots`: open snapshots.mdb too (verify checks them; replay and inspect never read it). */
export function openData(dir: string, snapshots = false): OpenData {
  const { db, config } = openJournal(dir, snapshots);
  return { db, config, tail: journalTail(db) };
}

/** The folder's journal and config, its end not read (inspect reads up to a damaged batch). */
export function openJournal(dir: string, snapshots = false): Omit<OpenData, 'tail'> {
  refuseUnfinishedBackup(dir);
  if (!existsSync(dataFile(dir)) && existsSync(join(dir, clusterFileName))) {
    const members = readdirSync(dir).filter((name) => /^member-\d+$/.test(name));
    throw new StorageError(
      StorageCode.DataMissing,
      `${dir} is a cluster's folder (${clusterFileName}): each member has its journal; give ` +
        `one member's folder, e.g. --data ${join(dir, members[0] ?? 'member-1')}` +
        (members.length > 0 ? ` (${members.join(', ')})` : ''),
    );
  }
  const lost = journalFileLost(dir);
  if (lost !== null) refuseLostJournal(dir, `is ${lost}`, readersThen);
  // Replay and inspect read the journal alone: a damaged snapshots.mdb stopped them too.
  const db = openJournalDb(dir, { create: false, readOnly: true, snapshots });
  if (db.journal.getKeysCount({ limit: 1 }) === 0) {
    try {
      refuseLostJournal(dir, 'holds no batch', readersThen, db);
    } catch (error) {
      closeJournalDb(db);
      throw error;
    }
  }
  return { db, config: storedConfig(db) ?? engineConfigDefault };
}

const readersThen = 'there are no events to read';

/**
 * The line `tool` prints of the member's standby log in `dir` (standbyLogPast), '' when there is
 * nothing to say. Records past its LMDB's mark: groups the member acknowledged that the journal
 * the tools read lacks. A member killed holds them until its next start replays them (one
 * running takes them in moments); until then a tool shows a journal without them, whose tail
 * they may even replace, and a backup copies LMDB without them. Damage (the mark, the file):
 * what the log held is unknown, and the member's start refuses the folder; the tools still show
 * the journal as LMDB holds it, verify calls it CORRUPT, and backup copies it. A single node's
 * folder has one with the journal log on (pipeline/journal-log.ts): the same file and line
 * ("the member" is then the node).
 */
export function standbyLogLine(
  tool: string,
  dir: string,
  past: StandbyLogPast,
  level: 'WARNING' | 'CORRUPT' = 'WARNING',
): string {
  if (past.damage !== null) {
    return (
      `${tool}: ${level}: the standby log in ${dir} is damaged: ${past.damage}. The journal ` +
      'read here is as LMDB holds it and may lack entries the member acknowledged; the ' +
      'member will not start on this folder: start it on an empty folder (it catches up from ' +
      'the others), keeping this one aside to read\n'
    );
  }
  if (past.records === 0) return '';
  const them = past.records === 1 ? '1 record' : `${past.records} records`;
  const acknowledged = `${tool}: WARNING: the standby log in ${dir} holds ${them} past`;
  if (tool === 'backup') {
    // The copy is of LMDB: it holds them once LMDB does (the member running, or started).
    return (
      `${acknowledged} the copy's head: entries the member acknowledged that are not in the ` +
      'journal yet, nor in the copy; a running member takes them in moments, a stopped one at ' +
      'its next start: back up after that to hold them\n'
    );
  }
  return (
    `${acknowledged} this journal: entries the member acknowledged that are not in the ` +
    'journal yet (they may replace its tail shown here); start the member once (it replays ' +
    'them) before relying on this\n'
  );
}
