import { assign, setup } from 'xstate';
import { dialogGone } from '../../sip/dialog/reinvite.ts';
import type {
  CallContext,
  CallMachineEvent,
  EmittedType,
  EndReason,
  HoldStatus,
  TransferStatus,
} from './types.ts';

/**
 * The call machine's types, named actions (effects the call session performs, bound once with
 * `.provide()`) and guards, shared by the machine and its regions (each built with `createStateConfig`).
 */
export const callSetup = setup({
  types: {
    context: {} as CallContext,
    events: {} as CallMachineEvent,
    input: {} as { direction: 'incoming' | 'outgoing' },
  },
  actions: {
    // UAS
    sendRinging: () => {},
    startRingTimer: () => {},
    sendAnswer: () => {},
    sendReject: (_, _params: { status: number; reason?: string }) => {},
    sendRequestTerminated: () => {},
    // UAC
    sendInvite: () => {},
    sendCancel: () => {},
    sendAck: () => {},
    // both
    sendBye: () => {},
    stopTimers: () => {},
    emit: (_, _params: { type: EmittedType }) => {},
    emitDtmf: (_, _params: { digit: string }) => {},
    // transfer (RFC 3515)
    sendRefer: (_, _params: { target: string }) => {},
    endTransfer: () => {},
    emitTransfer: (_, _params: { status: TransferStatus; code?: number; reason?: string }) => {},
    // a transfer the peer asks of us (REFER received): the new call to the target
    startReferredCall: (_, _params: { target: string }) => {},
    emitReferred: (_, _params: { status: TransferStatus; code?: number; reason?: string }) => {},
    // session timer (RFC 4028)
    sendRefresh: () => {},
    // hold (RFC 3264 8.4) by re-INVITE
    sendHold: () => {},
    sendResume: () => {},
    scheduleReinviteRetry: () => {},
    emitHold: (_, _params: { status: HoldStatus; code?: number }) => {},
    // context bookkeeping (pure)
    setReason: assign((_, params: { reason: EndReason }) => ({ reason: params.reason })),
    recordFailure: assign(({ event }) =>
      event.type === 'sip.failed'
        ? { reason: 'failed' as const, status: event.status, statusText: event.reason }
        : {},
    ),
    recordTimeout: assign({ reason: 'failed' as const, status: 408, statusText: 'Request Timeout' }),
  },
  guards: {
    // RFC 4028 10: "If the session refresh request transaction times out or generates a 408 or 481
    // response, then the UAC sends a BYE request"; another failure (491 glare, 500) leaves the session
    refreshFatal: ({ event }) => event.type === 'sip.refreshFailed' && dialogGone(event.status),
    // RFC 3261 14.1: our re-INVITE met another (491 Request Pending): tried again after a random wait
    glare: ({ event }) => event.type === 'sip.reinviteFailed' && event.status === 491,
    // RFC 3261 14.1 / 12.2.1.2: a re-INVITE timed out or the dialog is gone: the call is over
    dialogGone: ({ event }) => event.type === 'sip.reinviteFailed' && dialogGone(event.status),
  },
});

/** Sets the reason the call ends with. */
export const end = (reason: EndReason) => ({ type: 'setReason', params: { reason } }) as const;
