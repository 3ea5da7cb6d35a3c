/**
 * Whether an API key may send every command of a Commands frame (gateway.ts onCommands): each
 * command's kind, account and ref checked against the key's grant (api-keys.ts).
 */
import { commandSizeBytes } from '../constants.js';
import { CommandOffset } from '../protocol/command-layout.js';
import type { BatchSpan } from '../protocol/frames.js';
import { readU64At } from '../stdx/records.js';
import { commandRefusal, type Grant } from './api-keys.js';

/** Why the key may not send one of the frame's commands (the first such), or null. */
export function frameRefusal(grant: Grant, view: DataView, span: BatchSpan): string | null {
  if (grant.admin) return null;
  for (let i = 0; i < span.count; i++) {
    const at = span.start + i * commandSizeBytes;
    const kind = view.getUint8(at + CommandOffset.kind);
    const ref = view.getUint32(at + CommandOffset.ref, true);
    const refused = commandRefusal(grant, kind, readU64At(view, at + CommandOffset.account), ref);
    if (refused !== null) return refused;
  }
  return null;
}
