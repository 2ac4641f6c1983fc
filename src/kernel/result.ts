/**
 * A value or a typed error. Pure code (SIP, SDP, RTP, WAV) returns these instead of throwing on untrusted
 * input. Shared by every layer, so it lives in no layer of its own.
 */
export type Result<T, E> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: E };

export const ok = <T>(value: T): { ok: true; value: T } => ({ ok: true, value });
export const err = <E>(error: E): { ok: false; error: E } => ({ ok: false, error });
