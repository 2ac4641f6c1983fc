import type { InspectionEvent } from 'xstate';
import type { Logger } from '../kernel/logger.ts';
import type { OutboundChoice } from '../routing/outbound.ts';
import type { CallDecision, CallFacts, CallPlan } from '../routing/plan.ts';
import type { SipCore } from '../sip/core/sip-core.ts';
import type { TargetPattern } from '../sip/dialog/transfer-target.ts';
import type { Clock } from '../sip/transaction/clock.ts';
import type { TimerTable } from '../sip/transaction/timers.ts';
import type { CallSettings, MediaPorts } from './call-settings.ts';
import type { DialTarget } from './outgoing-call.ts';

/**
 * The media side's RTP port pairs, leased per call: it owns the sockets and closes them (with whatever
 * media the call still has) when the call is released. The call manager only sees the numbers.
 */
export interface PortAllocator {
  allocate(callId: string): Promise<MediaPorts | undefined>;
  release(callId: string): Promise<void>;
}

export interface CallManagerDeps {
  readonly core: () => SipCore;
  readonly clock: Clock;
  readonly timers: TimerTable;
  readonly settings: CallSettings;
  readonly ports: PortAllocator;
  readonly log: Logger;
  readonly maxCalls: number;
  /**
   * Incoming calls one source IP may have that are not established yet (ringing, or answered and waiting
   * for the ACK); beyond it 503. Unset = no limit but MAX_CALLS.
   */
  readonly maxSettingUpPerSource?: number;
  /** Source filter for new INVITEs (SIP_ALLOWED_SOURCES); absent = everyone. */
  readonly allowSource?: (address: string) => boolean;
  /** Outgoing calls: the upstream server, our From and credentials. */
  readonly upstream: Omit<DialTarget, 'uri'> & { readonly uriHost: string };
  readonly inspect?: (event: InspectionEvent, callId: string) => void;
  /** TRANSFER_ALLOWED_TARGETS: where calls may be transferred (nothing when empty). */
  readonly transferTargets?: readonly TargetPattern[];
  /**
   * What each incoming call gets (routes file, webhook): asked once the INVITE is acceptable, before any
   * port is taken. Absent: every call is the clients' (AUTO_ANSWER), as before routing.
   */
  readonly route?: (facts: CallFacts) => CallDecision | Promise<CallDecision>;
  /** What calls we place get when their caller names nothing (without a routes file: the environment's). */
  readonly outgoingPlan?: CallPlan;
  /**
   * Which trunk a call out takes, or why it may not be placed (deny list, trunk limits): the routes
   * file's trunks. Absent: every call goes to the upstream server.
   */
  readonly outbound?: (
    number: string,
    trunk: string | undefined,
    liveCalls: (trunk: string) => number,
  ) => OutboundChoice;
  /**
   * The same policy for a call out to a URI (a REFER received, a warm transfer's consult call) and a REFER
   * we send (`limits` false: the peer places that call): deny list on its user, a trunk's host is that
   * trunk, whose limits count it while it lives.
   */
  readonly outboundTarget?: (
    user: string | undefined,
    host: string,
    liveCalls: (trunk: string) => number,
    limits: boolean,
  ) => OutboundChoice;
}

/** How a client places a call: which trunk (default: by prefix), our From user, and what the call gets. */
export interface DialOptions {
  readonly trunk?: string | undefined;
  readonly from?: string | undefined;
  readonly plan?: CallPlan | undefined;
}

export type TransferResult =
  | { ok: true; target: string }
  | {
      ok: false;
      code: 'unknown_call' | 'invalid_state' | 'bad_target' | 'forbidden_target';
      message: string;
    };

/** An INVITE answered with a final error before it became a call. */
export interface RefusedCall {
  readonly callId: string;
  /** The From and To header values. */
  readonly from: string;
  readonly to: string;
  readonly source: string;
  readonly status: number;
  readonly reason: string | undefined;
  /** The route that refused it, if a route did. */
  readonly route: string | undefined;
}

export type DialResult = { ok: true; callId: string } | { ok: false; status: number; reason: string };
