// One dialog flooded with UPDATEs carrying SDP offers (BENCH_FLOOD_RATE a second, default 1,000) while a prober's OPTIONS measure
// how long everyone else waits: the relay in a child process (npm start's code), one call up, OPTIONS every
// 10 ms for BENCH_FLOOD_SECONDS (default 5) without the flood, then with it. The peer is the same relay
// unflooded, measured in the same run; the flood's answers show the per-dialog limit at work (200 within the
// dialog's share, 503 beyond it: src/sip/dialog/request-rate.ts).
import { createSocket, type Socket } from 'node:dgram';
import { OFFER } from '../test/helpers/call-harness.ts';
import { requestText } from '../test/helpers/messages.ts';
import { freeSipPort } from '../test/helpers/peers.ts';
import { fmt } from './measure.ts';
import { startRelayChild } from './relay-child.ts';

const SECONDS = Number(process.env.BENCH_FLOOD_SECONDS ?? 5);
const RATE = Number(process.env.BENCH_FLOOD_RATE ?? 1000);

async function udp(): Promise<Socket & { port: number }> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return Object.assign(s, { port: s.address().port });
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
};

/** OPTIONS every 10 ms for SECONDS: each one's time to its 200, in ms. */
async function probe(port: number): Promise<number[]> {
  const s = await udp();
  const sent = new Map<string, number>();
  const took: number[] = [];
  s.on('message', (m) => {
    const branch = /branch=(z9hG4bK-p\d+)/.exec(m.toString('latin1'))?.[1];
    const t = branch && sent.get(branch);
    if (t) took.push(performance.now() - t);
  });
  const end = performance.now() + SECONDS * 1000;
  for (let n = 0; performance.now() < end; n++) {
    const branch = `z9hG4bK-p${n}`;
    sent.set(branch, performance.now());
    s.send(
      requestText({ method: 'OPTIONS', branch, callId: `probe-${n}`, sentBy: `127.0.0.1:${s.port}` }).replace(
        'sip:relay@127.0.0.1:5062',
        `sip:relay@127.0.0.1:${port}`,
      ),
      port,
      '127.0.0.1',
    );
    await new Promise((r) => setTimeout(r, 10));
  }
  await new Promise((r) => setTimeout(r, 200));
  s.close();
  return took;
}

export async function runDialogFloodBench(): Promise<void> {
  const port = await freeSipPort();
  const relay = await startRelayChild(
    {
      SIP_LOCAL_PORT: String(port),
      RECORDING: 'false',
      SIP_SOURCE_LIMIT_MB: '4096',
      RTP_PORT_START: '47000',
      RTP_PORT_END: '47099',
    },
    'bench-flood',
  );
  try {
    // one call up: INVITE, its 200, ACK
    const phone = await udp();
    const req = (o: Parameters<typeof requestText>[0]) =>
      Buffer.from(
        requestText({ callId: 'flood-1', sentBy: `127.0.0.1:${phone.port}`, ...o }).replace(
          'sip:relay@127.0.0.1:5062',
          `sip:relay@127.0.0.1:${port}`,
        ),
      );
    const answers = { ok: 0, refused: 0 };
    let toTag = '';
    phone.on('message', (m) => {
      const t = m.toString('latin1');
      if (/CSeq: \d+ UPDATE/.test(t)) {
        if (t.startsWith('SIP/2.0 200')) answers.ok++;
        else if (t.startsWith('SIP/2.0 503')) answers.refused++;
      } else if (!toTag && t.startsWith('SIP/2.0 200')) toTag = /^To:.*;tag=([^;\s]+)/im.exec(t)?.[1] ?? '';
    });
    phone.send(
      req({ branch: 'z9hG4bK-inv', body: OFFER(), extra: ['Content-Type: application/sdp'] }),
      port,
      '127.0.0.1',
    );
    const until = Date.now() + 5000;
    while (!toTag && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    if (!toTag) throw new Error('the call was not answered');
    phone.send(req({ method: 'ACK', branch: 'z9hG4bK-ack', toTag }), port, '127.0.0.1');

    const quiet = await probe(port);
    let cseq = 2;
    const flood = setInterval(() => {
      for (let i = 0; i < RATE / 100; i++)
        phone.send(
          req({ method: 'UPDATE', cseq: cseq++, branch: `z9hG4bK-u${cseq}`, toTag }),
          port,
          '127.0.0.1',
        );
    }, 10);
    const flooded = await probe(port);
    clearInterval(flood);
    phone.close();
    console.log(
      `\nOne dialog flooded with ${fmt(RATE)} UPDATEs/s; OPTIONS every 10 ms for ${SECONDS} s (the relay in a child process)`,
    );
    console.log('                      OPTIONS p50 ms   p99 ms   max ms');
    const row = (name: string, xs: number[]) =>
      console.log(
        `  ${name.padEnd(20)}${pct(xs, 50).toFixed(2).padStart(11)}${pct(xs, 99).toFixed(2).padStart(9)}${Math.max(
          ...xs,
        )
          .toFixed(2)
          .padStart(9)}`,
      );
    row('no flood (peer)', quiet);
    row('flood', flooded);
    console.log(
      `  p99 flood / no flood: ${(pct(flooded, 99) / pct(quiet, 99)).toFixed(2)}; the flood's UPDATEs: ${fmt(answers.ok)} answered 200, ${fmt(answers.refused)} refused 503 (the dialog's share: 20/s, bursts of 40)`,
    );
  } finally {
    await relay.stop();
  }
}
