import type { Config } from './config/index.ts';
import { systemClock } from './io/clock.ts';
import { localBroadcasts } from './io/net-info.ts';
import { SipUdpAdapter } from './io/sip-udp.adapter.ts';
import type { Logger } from './sip/core/logger.ts';
import { noCallTu } from './sip/core/no-call-tu.ts';
import { defaultPolicy } from './sip/core/policy.ts';
import { SipCore } from './sip/core/sip-core.ts';
import { serialize } from './sip/message/serialize.ts';
import type { Clock } from './sip/transaction/clock.ts';
import { timerTable } from './sip/transaction/timers.ts';

export interface Relay {
  readonly sip: { readonly address: string; readonly port: number };
  readonly core: SipCore;
  /** Stops taking new requests (503), then closes the socket and every timer. */
  close(): Promise<void>;
}

export interface RelayDeps {
  readonly log: Logger;
  readonly clock?: Clock;
}

/** Wires the edges to the core: UDP socket -> SipCore -> transaction user. Used by main.ts and by tests. */
export async function startRelay(config: Config, deps: RelayDeps): Promise<Relay> {
  const { log } = deps;
  const udp = await SipUdpAdapter.bind(config.SIP_LOCAL_IP, config.SIP_LOCAL_PORT, (e) =>
    log.warn({ err: e.message }, 'SIP socket error'),
  );
  const core: SipCore = new SipCore({
    transport: { send: (msg, dest) => udp.send(serialize(msg), dest.port, dest.host) },
    clock: deps.clock ?? systemClock,
    timers: timerTable({
      t1: config.SIP_T1_MS,
      t2: config.SIP_T2_MS,
      t4: config.SIP_T4_MS,
      timerD: config.SIP_TIMER_D_MS,
    }),
    policy: defaultPolicy(config.SIP_USER_AGENT),
    log,
    tu: noCallTu(() => core),
    broadcasts: localBroadcasts(),
    local: { host: config.SIP_PUBLIC_IP || udp.address().address, port: udp.address().port },
  });
  const subscription = udp.datagrams$.subscribe((d) => {
    try {
      core.receive(d.data, { address: d.address, port: d.port });
    } catch (e) {
      // Defence in depth: the parser never throws on input, but one bad datagram must never end the relay.
      log.error(
        { err: e instanceof Error ? e.stack : String(e), source: `${d.address}:${d.port}` },
        'datagram crashed the SIP core',
      );
    }
  });
  let closed = false;
  return {
    sip: udp.address(),
    core,
    async close() {
      if (closed) return;
      closed = true;
      core.stopAccepting();
      subscription.unsubscribe();
      core.close();
      await udp.close();
    },
  };
}
