/**
 * Opening a data folder for the offline tools (replay, verify, inspect): read-only, with the
 * engine config the node last ran with, and the journal's end checked.
 */
import { engineConfigDefault, type EngineConfig } from '../constants.js';
import { openJournalDb, storedConfig, type JournalDb } from '../journal/journal-db.js';
import { journalTail } from '../journal/journal-reader.js';
import type { JournalTail } from '../journal/journal-writer.js';

export interface OpenData {
  db: JournalDb;
  config: EngineConfig;
  tail: JournalTail;
}

export function openData(dir: string): OpenData {
  const db = openJournalDb(dir, { create: false, readOnly: true });
  const config = storedConfig(db) ?? engineConfigDefault;
  return { db, config, tail: journalTail(db) };
}
