// The callers of bench/ai-latency.bench.ts in their own process, so their timers and packet handling do not
// share the relay's event loop (a real caller is never in our process). Forked with IPC: gets
// { sipPort, calls, turns }, places a warm-up call then the timed calls, and sends back each turn's last
// voiced packet and first reply packet as epoch ms (performance.timeOrigin + now: the same clock as the
// relay's, to about 0.1 ms on one machine).
import { speechLike } from '../test/helpers/audio.ts';
import { Phone, peakOf } from '../test/helpers/phone.ts';

export interface PhoneTurn {
  readonly callId: string;
  readonly lastVoiced: number;
  readonly firstReply: number;
}

const epoch = (t: number) => performance.timeOrigin + t;

async function turnOf(phone: Phone, seed: number): Promise<PhoneTurn> {
  const before = phone.sent.length;
  await phone.say(speechLike(8000, 1.2, seed));
  const lastVoiced = phone.sent
    .slice(before)
    .filter((f) => f.queued && f.peak > 500)
    .at(-1)!.at;
  const reply = () => phone.heard.find((p) => p.at > lastVoiced && peakOf(p.samples) > 500);
  await phone.until(() => reply() !== undefined, 10_000);
  const firstReply = reply()!.at;
  // let the answer play out before the next question: no barge-in
  await phone.until(() => {
    const recent = phone.heard.slice(-25);
    return recent.length === 25 && recent.every((p) => peakOf(p.samples) < 500);
  }, 15_000);
  return { callId: phone.callId, lastVoiced: epoch(lastVoiced), firstReply: epoch(firstReply) };
}

process.once('message', async (m: { sipPort: number; calls: number; turns: number }) => {
  // warm-up (JIT, HTTP connections), not counted
  const warm = await Phone.call(m.sipPort);
  await turnOf(warm, 999);
  await warm.hangup();
  const turns: PhoneTurn[] = [];
  await Promise.all(
    Array.from({ length: m.calls }, async (_, c) => {
      await new Promise((r) => setTimeout(r, c * 300)); // the calls' turns do not line up
      const phone = await Phone.call(m.sipPort);
      for (let t = 0; t < m.turns; t++) turns.push(await turnOf(phone, 100 * c + t));
      await phone.hangup();
    }),
  );
  process.send!(turns, () => process.exit(0));
});
