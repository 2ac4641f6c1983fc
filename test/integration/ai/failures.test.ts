import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Relay } from '../../../src/relay.ts';
import { callCenterEnv } from '../../helpers/ai-env.ts';
import { speechLike } from '../../helpers/audio.ts';
import { type FakeOpenAi, startFakeOpenAi } from '../../helpers/fake-openai.ts';
import { Phone, peakOf } from '../../helpers/phone.ts';
import { startTestRelay } from '../../helpers/relay.ts';

const APOLOGY = 'Sorry, one moment please.';
let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function setup(env: Record<string, string>, fakeDelays: Parameters<typeof startFakeOpenAi>[0] = {}) {
  const fake: FakeOpenAi = await startFakeOpenAi({ reply: () => 'All good.', ...fakeDelays });
  const relay: Relay = await startTestRelay({
    ...callCenterEnv(fake),
    AI_ERROR_TEXT: APOLOGY,
    RTP_PORT_START: '45800',
    RTP_PORT_END: '45899',
    ...env,
  });
  const monitor = new WebSocket(`ws://127.0.0.1:${relay.ws.port}/v1`);
  const events: Array<{ type: string; [k: string]: unknown }> = [];
  monitor.on('message', (d) => events.push(JSON.parse(String(d))));
  await new Promise((r) => monitor.on('open', r));
  const phone = await Phone.call(relay.sip.port);
  cleanup.push(
    () => phone.hangup(),
    () => monitor.close(),
    () => relay.close(),
    () => fake.close(),
  );
  return { fake, relay, events, phone };
}

const speechInputs = (f: FakeOpenAi) =>
  f.requests.filter((r) => r.path === '/v1/audio/speech').map((r) => (r.body as { input: string }).input);

describe('provider failures on a live call', () => {
  it('401 on the chat: not retried, logged as ai.error, the caller hears the recovery prompt', async () => {
    const { fake, events, phone } = await setup({});
    fake.failNext(401, 5, '/v1/chat/completions');
    await phone.say(speechLike(8000, 1, 31));
    const asked = performance.now();
    await phone.until(() => events.some((e) => e.type === 'ai.reply' && e.text === APOLOGY), 5000);
    await phone.until(() => phone.heard.some((p) => p.at > asked && peakOf(p.samples) > 1000), 5000);
    expect(fake.requests.filter((r) => r.path === '/v1/chat/completions')).toHaveLength(1);
    expect(events.find((e) => e.type === 'ai.error')).toMatchObject({
      reason: expect.stringContaining('401'),
    });
    expect(speechInputs(fake)).toEqual([APOLOGY]);
  }, 20_000);

  it('a provider slower than AI_TIMEOUT_MS: retried, then the recovery prompt; RTP stays paced meanwhile', async () => {
    const { fake, events, phone } = await setup(
      { AI_TIMEOUT_MS: '300', AI_RETRIES: '1' },
      { delayMs: { chatFirst: 2000 } },
    );
    await phone.say(speechLike(8000, 1, 32));
    const asked = performance.now();
    await phone.until(() => events.some((e) => e.type === 'ai.reply' && e.text === APOLOGY), 6000);
    expect(fake.requests.filter((r) => r.path === '/v1/chat/completions')).toHaveLength(2);
    expect(events.find((e) => e.type === 'ai.error')).toBeDefined();
    // while the agent waited on the provider, the relay's RTP (silence) kept its 20 ms pace
    const during = phone.heard.filter((p) => p.at > asked && p.at < asked + 1000);
    const gaps = during.slice(1).map((p, i) => p.at - during[i]!.at);
    // the fault this guards against is RTP stopping while the provider is slow (2 s here); the bounds tell
    // it from a busy machine's scheduling (pacing itself is measured by the pacing test and the benchmarks)
    expect(during.length).toBeGreaterThanOrEqual(25);
    expect(Math.max(...gaps)).toBeLessThan(500);
  }, 20_000);
});
