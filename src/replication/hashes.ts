/** Hashes as the replication layer names them: lower-case hex of the journal's SHA-256. */
import { genesisHash } from '../journal/journal-codec.js';

/** The `prevHash` of the first entry of every journal. */
export const genesisHashHex = Buffer.from(genesisHash).toString('hex');
