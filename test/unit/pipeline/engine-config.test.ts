import { test } from 'node:test';
import assert from 'node:assert/strict';
import { engineConfigDefault, engineConfigProblem } from '../../../src/constants.js';
import {
  closeJournalDb,
  openJournalDb,
  storeConfig,
  storedConfig,
} from '../../../src/journal/journal-db.js';
import { StorageError } from '../../../src/journal/journal-errors.js';
import { capacityLine, configFor } from '../../../src/pipeline/engine-config.js';
import { removeDir, tempDataDir } from '../../harness/node-driver.js';

test('capacities: the folder keeps them; a flag may raise one, never lower it', async () => {
  const dir = tempDataDir();
  const db = openJournalDb(dir, { create: true, readOnly: false });
  try {
    assert.deepEqual(configFor(db, {}), engineConfigDefault, 'a new folder: the defaults');
    const grown = configFor(db, { accountCountMax: 1_000_000, orderCountMax: 500_000 });
    assert.equal(grown.accountCountMax, 1_000_000);
    assert.equal(grown.orderCountMax, 500_000);
    assert.equal(grown.clientCountMax, engineConfigDefault.clientCountMax);
    storeConfig(db, grown); // as a node does once its workers hold the state
    assert.deepEqual(configFor(db, {}), grown, 'no flag: what the folder ran with');
    assert.equal(configFor(db, { accountCountMax: 2_000_000 }).accountCountMax, 2_000_000);
    const refused = (asked: Parameters<typeof configFor>[1], why: RegExp): void =>
      assert.throws(
        () => configFor(db, asked),
        (e: unknown) =>
          e instanceof StorageError && e.code === 'CONFIG_REFUSED' && why.test(e.message),
      );
    refused({ accountCountMax: 999_999 }, /--accounts-max 999999 is below the 1000000/);
    refused({ levelCountMax: 70_000, orderCountMax: 600_000, assetCountMax: 2 ** 20 }, /assets/);
    refused({ levelCountMax: 600_000 }, /levels at most orders/);
    // Every problem at once, not one per start.
    refused(
      { levelCountMax: 600_000, assetCountMax: 2 ** 20 },
      /asset ids fit .*; levels at most orders/,
    );
    assert.deepEqual(storedConfig(db), grown, 'a refusal writes nothing');
    assert.equal(
      capacityLine(grown),
      '1,000,000 accounts, 500,000 orders, 15 assets, 255 instruments, 16,384 clients, ' +
        '65,536 price levels, 65,536 pending transfers',
    );
  } finally {
    // lmdb-js closing an environment in the same turn that opened it never returns.
    await new Promise((resolve) => setTimeout(resolve, 10));
    closeJournalDb(db);
    removeDir(dir);
  }
});

test('capacities: every one is a whole number of 1 or more, a missing one too', () => {
  assert.equal(engineConfigProblem(engineConfigDefault), null);
  const whole = 'capacities are whole numbers of 1 or more';
  for (const name of Object.keys(engineConfigDefault)) {
    for (const bad of [0, -1, 1.5, Number.NaN, undefined, '8']) {
      const config = { ...engineConfigDefault, [name]: bad } as never;
      assert.equal(engineConfigProblem(config), whole, `${name}: ${String(bad)}`);
    }
  }
  const { pendingCountMax: _, ...missing } = engineConfigDefault;
  assert.equal(engineConfigProblem(missing as never), whole, 'a stored config without one');
});
