import type { Logger } from '../kernel/logger.ts';
import type { SipCore } from '../sip/core/sip-core.ts';
import type { CallEvent } from './call-events.ts';
import type { CallMachineEvent } from './call-machine/types.ts';
import type { CallSettings } from './call-settings.ts';
import type { DialogUsage } from './dialog-usage.ts';

/**
 * What a call's in-dialog helpers (transfer, session timer, our re-INVITEs) need of the call session: its
 * dialog, where requests go, our Contact, its machine and timers. One call session owns them all.
 */
export interface DialogHost {
  readonly callId: string;
  readonly core: SipCore;
  readonly settings: CallSettings;
  readonly log: Logger;
  /** The call's dialog and the one recipe for its requests (dialog-usage.ts). */
  readonly usage: DialogUsage;
  /** Our Contact on the call's transport. */
  contact(): string;
  send(event: CallMachineEvent): void;
  emit(event: CallEvent): void;
  /** Sends `event` to the machine after `ms` (restarting a timer of the same name). */
  after(name: string, ms: number, event: CallMachineEvent): void;
  cancel(name: string): void;
}
