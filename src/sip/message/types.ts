/** One header line as received or built: the name as written and the value with folding undone. */
export interface Header {
  readonly name: string;
  readonly value: string;
}

interface MessageBase {
  readonly headers: readonly Header[];
  readonly body: Uint8Array;
}

export interface SipRequest extends MessageBase {
  readonly kind: 'request';
  readonly method: string;
  readonly uri: string;
}

export interface SipResponse extends MessageBase {
  readonly kind: 'response';
  readonly status: number;
  readonly reason: string;
}

export type SipMessage = SipRequest | SipResponse;
