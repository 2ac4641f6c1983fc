import { silentLogger as silent } from '../../src/kernel/logger.ts';
import { defaultPolicy } from '../../src/sip/core/policy.ts';
import { SipCore } from '../../src/sip/core/sip-core.ts';
import type { TransactionUser } from '../../src/sip/core/tu.ts';
import type { ParsedMessage } from '../../src/sip/message/parse.ts';
import { parseMessage } from '../../src/sip/message/parse.ts';
import { serialize } from '../../src/sip/message/serialize.ts';
import type { SipMessage } from '../../src/sip/message/types.ts';
import type { Destination } from '../../src/sip/transaction/layer.ts';
import { timerTable } from '../../src/sip/transaction/timers.ts';
import { ManualClock } from './manual-clock.ts';
import { noCallTu } from './no-call-tu.ts';

export interface Sent {
  readonly message: SipMessage;
  /** undefined when what we sent does not parse back (a 400 echoing a malformed To, say) */
  readonly parsed: ParsedMessage | undefined;
  readonly dest: Destination;
}

/** A SipCore with a manual clock and a transport that records what it sends (no sockets). */
export function coreHarness(
  opts: { tu?: (core: () => SipCore, clock: ManualClock) => TransactionUser; broadcasts?: Set<string> } = {},
) {
  const clock = new ManualClock();
  const sent: Sent[] = [];
  const core: SipCore = new SipCore({
    clock,
    timers: timerTable(),
    policy: defaultPolicy('test-relay'),
    transport: {
      send: async (message, dest) => {
        const parsed = parseMessage(serialize(message));
        sent.push({ message, parsed: parsed.ok ? parsed.value : undefined, dest });
      },
    },
    log: silent,
    tu: (opts.tu ?? noCallTu)(() => core, clock),
    ...(opts.broadcasts ? { broadcasts: opts.broadcasts } : {}),
  });
  const deliver = (data: Uint8Array | string, source = { address: '127.0.0.1', port: 5999 }) => {
    const before = sent.length;
    core.receive(typeof data === 'string' ? Buffer.from(data) : data, source);
    return sent.slice(before);
  };
  const statuses = (list: Sent[]) =>
    list.map((s) => (s.message.kind === 'response' ? s.message.status : s.message.method));
  return { core, clock, sent, deliver, statuses };
}
