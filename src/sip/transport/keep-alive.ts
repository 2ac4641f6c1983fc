/**
 * RFC 5626 4.4.1 CRLF keep-alives on a flow we opened, as pure rules (the stream adapter in src/io keeps
 * the timers and sockets). The ping is a double CRLF, the pong a single CRLF.
 */

/** The keep-alive ping. */
export const PING = Uint8Array.of(0x0d, 0x0a, 0x0d, 0x0a);
/** The answer to a peer's ping. */
export const PONG = Uint8Array.of(0x0d, 0x0a);

/**
 * When the next ping goes: without a Flow-Timer, "between 95 and 120 seconds" picked at random for
 * connection-oriented transports; for another interval the same share of it (95/120 to 120/120).
 * `random` in [0, 1).
 */
export const nextPingMs = (intervalMs: number, random: number): number =>
  (intervalMs * (95 + 25 * random)) / 120;

/** Whether what arrived while a ping was out starts with its pong (anything at all shows the flow alive). */
export const isPong = (chunk: Uint8Array): boolean => chunk[0] === 0x0d && chunk[1] === 0x0a;

/**
 * A ping went unanswered for the pong wait. "If a pong is not received within 10 seconds after sending a
 * ping ... then the client MUST treat the flow as failed": here only once the peer has answered a ping
 * before. A peer that never has may not do RFC 5626 at all (RFC 3261 7.5 only has it skip the CRLFs), so
 * its silence proves nothing, and the pings still keep NAT bindings open.
 */
export const unansweredPing = (peerHasPonged: boolean): 'failed' | 'ping again' =>
  peerHasPonged ? 'failed' : 'ping again';
