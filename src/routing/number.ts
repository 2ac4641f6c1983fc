/**
 * The one rule for a number a client asks the relay to dial or dial from (the JSON protocol's call.dial and
 * REST POST /v1/calls: `to` and `from`): an optional `+`, then digits, `*` and `#`, 1 to 32 of them
 * (`+4930123456`, `1001`, `*98#`). The original text protocol's `CALL:` keeps its own stricter rule (7-15
 * digits), as its clients expect; transfer targets may also be sip: URIs.
 */
export const DIALLED_NUMBER = /^\+?[0-9*#]{1,32}$/;
export const DIALLED_NUMBER_RULE = 'a number: digits, * or # (1-32), optionally after +';
