/**
 * `bourse keys`: API keys in `<data>/keys.json`. `create` shows the new key once; the file keeps
 * only its SHA-256. A running node reads the file when it starts.
 */
import { mkdirSync } from 'node:fs';
import {
  createKey,
  keyFilePath,
  readKeyFile,
  writeKeyFile,
  type KeyFile,
} from '../gateway/api-keys.js';
import { table, UsageError } from './output.js';

export interface CreateKeyOptions {
  data: string;
  client: number;
  admin?: boolean;
  accounts?: string;
}

export function createKeyCommand(options: CreateKeyOptions): void {
  if (options.client < 1) throw new UsageError('--client: a client id is 1 or more');
  const accounts = parseAccounts(options.accounts ?? '');
  if (options.admin !== true && accounts.length === 0) {
    throw new UsageError('give --admin or --accounts 1,2,... (what the key may act on)');
  }
  mkdirSync(options.data, { recursive: true });
  const existing = readKeyFile(options.data);
  const file: KeyFile = existing ?? { version: 1, keys: [] };
  const { record, token } = createKey(options.client, options.admin === true, accounts);
  file.keys.push(record);
  writeKeyFile(options.data, file);
  process.stdout.write(
    `${token}\n` +
      `key ${record.id} for client ${record.clientId} ` +
      `(${record.admin ? 'admin' : `accounts ${accounts.join(',')}`}) saved in ` +
      `${keyFilePath(options.data)}. This is the only time the key is shown. ` +
      (existing === null
        ? 'The first key: restart a node running on this folder (it has no keys until then).\n'
        : 'A node running on this folder takes it within a second.\n'),
  );
}

function parseAccounts(text: string): number[] {
  if (text === '') return [];
  return text.split(',').map((part) => {
    const value = Number(part.trim());
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new UsageError(`--accounts: '${part}' is not an account id`);
    }
    return value;
  });
}

export function listKeysCommand(data: string): void {
  const file = readKeyFile(data);
  if (file === null) {
    process.stdout.write(`no keys in ${keyFilePath(data)} (the node runs without them)\n`);
    return;
  }
  const rows = file.keys.map((k) => ({
    id: k.id,
    client: k.clientId,
    grants: k.admin ? 'admin' : `accounts ${k.accounts.join(',')}`,
    created: k.created,
  }));
  process.stdout.write(table(rows) + '\n');
}

export function revokeKeyCommand(data: string, id: string): void {
  const file = readKeyFile(data);
  const before = file?.keys.length ?? 0;
  if (file === null || !file.keys.some((k) => k.id === id)) {
    throw new UsageError(`no key ${id} in ${keyFilePath(data)}`);
  }
  file.keys = file.keys.filter((k) => k.id !== id);
  writeKeyFile(data, file);
  process.stdout.write(
    `revoked key ${id} (${before - 1} left); a node running on this folder refuses it within ` +
      `a second and closes its sessions\n`,
  );
}
