/**
 * The timer table of RFC 3261 17 (Table 4) for an unreliable transport, in milliseconds. The base values
 * come from config (SIP_T1_MS, SIP_T2_MS, SIP_T4_MS, SIP_TIMER_D_MS); the rest are derived here only.
 * L and M are RFC 6026's timers for the "Accepted" state.
 */
export interface TimerBase {
  /** RTT estimate, default 500 ms. */
  readonly t1: number;
  /** Maximum retransmit interval for non-INVITE requests and INVITE responses, default 4 s. */
  readonly t2: number;
  /** Maximum duration a message will remain in the network, default 5 s. */
  readonly t4: number;
  /** Wait time for response retransmits in the ICT; at least 32 s for UDP. */
  readonly timerD: number;
}

export const DEFAULT_TIMERS: TimerBase = { t1: 500, t2: 4000, t4: 5000, timerD: 32_000 };

export type TimerName = 'A' | 'B' | 'D' | 'E' | 'F' | 'G' | 'H' | 'I' | 'J' | 'K' | 'L' | 'M';

export interface TimerTable extends TimerBase {
  /** Over TCP/TLS: no retransmission timers (A, E, G) and D, I, J, K zero (RFC 3261 17). */
  readonly reliable?: boolean;
  readonly A: number;
  readonly B: number;
  readonly D: number;
  readonly E: number;
  readonly F: number;
  readonly G: number;
  readonly H: number;
  readonly I: number;
  readonly J: number;
  readonly K: number;
  readonly L: number;
  readonly M: number;
}

export function timerTable(base: TimerBase = DEFAULT_TIMERS): TimerTable {
  const { t1, t4 } = base;
  return {
    ...base,
    A: t1, // INVITE request retransmit, doubles each time
    B: 64 * t1, // INVITE transaction timeout
    D: base.timerD, // wait for response retransmits (ICT completed)
    E: t1, // non-INVITE retransmit, doubles up to T2
    F: 64 * t1, // non-INVITE transaction timeout
    G: t1, // INVITE response retransmit, doubles up to T2
    H: 64 * t1, // wait for ACK receipt
    I: t4, // wait for ACK retransmits
    J: 64 * t1, // wait for non-INVITE request retransmits
    K: t4, // wait for non-INVITE response retransmits
    L: 64 * t1, // RFC 6026: wait for accepted INVITE request retransmits
    M: 64 * t1, // RFC 6026: wait for retransmission of 2xx to INVITE
  };
}

/**
 * The table for a reliable transport (TCP, TLS). RFC 3261 17.1.1.2: "If an unreliable transport is being
 * used, the client transaction MUST start timer A" and Timer D is "zero seconds for reliable transports";
 * 17.1.2.2: Timer E only "if an unreliable transport is in use", Timer K "zero seconds for reliable
 * transports"; 17.2.1: Timer G only for unreliable transports, Timer I "zero seconds for reliable
 * transports"; 17.2.2: Timer J "zero seconds for reliable transports". B, F, H, L and M are unchanged.
 */
export function reliableTimers(t: TimerTable): TimerTable {
  return { ...t, reliable: true, D: 0, I: 0, J: 0, K: 0 };
}
