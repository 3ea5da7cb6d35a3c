/**
 * A member's start that failed before it served puts its folder back (start-undo.ts), unless it
 * acted as a member meanwhile: a vote or a batch it stored stays, and the folder with it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FolderBefore } from '../../../src/pipeline/start-undo.js';
import { sequenceKey } from '../../../src/journal/journal-db.js';
import { withDb } from '../../harness/fresh-db.js';

test('the marks of a failed start go; the transport starts and earlier keys stay', () =>
  withDb((db, dir) => {
    db.meta.putSync('peer-start-2', '5');
    db.meta.putSync('engine-config', 'before');
    const before = FolderBefore.of(db, dir);
    db.meta.putSync('member-id', '1');
    db.meta.putSync('member', '1');
    db.meta.putSync('engine-config', 'grown');
    db.meta.putSync('transport-start', '77');
    db.meta.putSync('peer-start-2', '9');
    assert.equal(before.kept(db), null, 'nothing to keep');
    before.restore(db);
    assert.equal(db.meta.get('member-id'), undefined);
    assert.equal(db.meta.get('member'), undefined);
    assert.equal(db.meta.get('engine-config'), 'before');
    assert.equal(db.meta.get('transport-start'), '77', 'a start only grows');
    assert.equal(db.meta.get('peer-start-2'), '9');
  }));

test('a start that voted, or stored a batch, is the member’s: not put back', () =>
  withDb((db, dir) => {
    const before = FolderBefore.of(db, dir);
    db.meta.putSync('member-id', '1');
    db.meta.putSync('term', '3');
    db.meta.putSync('votedFor', '2');
    assert.notEqual(before.kept(db), null, 'voted');
    db.meta.removeSync('term');
    db.meta.removeSync('votedFor');
    assert.equal(before.kept(db), null, 'nothing to keep');
    db.journal.putSync(sequenceKey(1), Buffer.alloc(8));
    assert.notEqual(before.kept(db), null, 'stored a batch');
  }));

test('a new folder the others said lost its disk is the member’s: not put back', () =>
  withDb((db, dir) => {
    const before = FolderBefore.of(db, dir);
    before.bootstrapAnswered(true); // no other member's journal holds events: a new member
    db.meta.putSync('member-id', '1');
    db.meta.putSync('recovering', '0');
    assert.equal(before.kept(db), null, 'nothing to keep');
    before.bootstrapAnswered(false); // another member's does: this folder lost its disk
    db.meta.putSync('recovering', '1');
    assert.match(before.kept(db) ?? '', /lost its data/);
  }));

test('a member’s folder keeps its own marks: asking the others adds nothing to keep', () =>
  withDb((db, dir) => {
    db.meta.putSync('member', '1');
    db.meta.putSync('recovering', '0');
    const before = FolderBefore.of(db, dir);
    before.bootstrapAnswered(false); // bootstrapping says false for a member's folder
    assert.equal(before.kept(db), null, 'nothing to keep');
  }));
