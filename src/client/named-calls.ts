/**
 * The SDK's calls of one named command each (named-commands.ts): the ledger's pending
 * transfers and the admin commands, each its named fields checked and mapped, then sent as
 * `submit` sends. BourseClient extends this; kept apart so that client.ts holds the session.
 */
import type { EventRecord } from '../protocol/event-reader.js';
import type {
  AccountArgs,
  AssetArgs,
  FundsArgs,
  InstrumentArgs,
  InstrumentRef,
  NamedCommand,
  PendingTransferArgs,
  PostPendingArgs,
  VoidPendingArgs,
} from '../protocol/named-commands.js';

export abstract class NamedCalls {
  /** A named command, checked, then sent as `submit` sends (BourseClient's). */
  protected abstract named(name: NamedCommand, args: object): Promise<EventRecord[]>;

  /** Holds `amount` of `from`'s funds for `to`, until posted, voided or timed out. */
  transferPending(f: PendingTransferArgs): Promise<EventRecord[]> {
    return this.named('transferPending', f);
  }

  /** Moves up to the held amount of a pending transfer; the rest of the hold is released. */
  postPending(f: PostPendingArgs): Promise<EventRecord[]> {
    return this.named('postPending', f);
  }

  voidPending(f: VoidPendingArgs): Promise<EventRecord[]> {
    return this.named('voidPending', f);
  }

  createAccount(f: AccountArgs): Promise<EventRecord[]> {
    return this.named('createAccount', f);
  }

  addAsset(f: AssetArgs): Promise<EventRecord[]> {
    return this.named('addAsset', f);
  }

  deposit(f: FundsArgs): Promise<EventRecord[]> {
    return this.named('deposit', f);
  }

  withdraw(f: FundsArgs): Promise<EventRecord[]> {
    return this.named('withdraw', f);
  }

  addInstrument(f: InstrumentArgs): Promise<EventRecord[]> {
    return this.named('addInstrument', f);
  }

  haltInstrument(f: InstrumentRef): Promise<EventRecord[]> {
    return this.named('haltInstrument', f);
  }

  resumeInstrument(f: InstrumentRef): Promise<EventRecord[]> {
    return this.named('resumeInstrument', f);
  }
}
