import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.ts';
import type { Relay } from '../../src/relay.ts';
import { startTestRelay } from '../helpers/relay.ts';
import { wsAttempt } from '../helpers/ws-client.ts';

let relay: Relay | undefined;
afterEach(async () => {
  await relay?.close();
  relay = undefined;
});

describe('WebSocket security', () => {
  it('with WS_TOKEN: 401 without it or with a wrong one; ?token= or Authorization: Bearer opens', async () => {
    relay = await startTestRelay({ WS_TOKEN: 'correct-horse' });
    const base = `ws://127.0.0.1:${relay.ws.port}/`;
    expect(await wsAttempt(base)).toBe(401);
    expect(await wsAttempt(`${base}?token=wrong-horse`)).toBe(401);
    expect(await wsAttempt(`${base}?token=correct-horse`)).toBe('open');
    expect(await wsAttempt(base, { Authorization: 'Bearer correct-horse' })).toBe('open');
    await new Promise((r) => setTimeout(r, 100));
    expect(relay.ws.clients).toBe(0); // the refused ones never counted, the accepted ones closed
  });

  it('an Origin allow-list refuses other browsers with 403', async () => {
    relay = await startTestRelay({ WS_ORIGINS: 'https://console.example' });
    const base = `ws://127.0.0.1:${relay.ws.port}/`;
    expect(await wsAttempt(base, { Origin: 'https://evil.example' })).toBe(403);
    expect(await wsAttempt(base, { Origin: 'https://console.example' })).toBe('open');
    expect(await wsAttempt(base)).toBe('open'); // not a browser: no Origin
  });

  it('by default (no WS_ORIGINS) a web page from another site gets 403: only loopback pages and non-browsers', async () => {
    relay = await startTestRelay();
    const base = `ws://127.0.0.1:${relay.ws.port}/`;
    // cross-site WebSocket hijacking: any page the user opens could otherwise send CALL:+1900...
    expect(await wsAttempt(base, { Origin: 'https://evil.example' })).toBe(403);
    expect(await wsAttempt(`${base}v1`, { Origin: 'http://evil.example:8080' })).toBe(403);
    expect(await wsAttempt(base, { Origin: 'null' })).toBe(403); // sandboxed iframes, file:// pages
    expect(await wsAttempt(base, { Origin: 'http://127.0.0.1.evil.example' })).toBe(403);
    expect(await wsAttempt(base, { Origin: 'http://localhost:3000' })).toBe('open');
    expect(await wsAttempt(base, { Origin: 'http://127.0.0.1:8000' })).toBe('open');
    expect(await wsAttempt(base, { Origin: 'https://[::1]' })).toBe('open');
    expect(await wsAttempt(base)).toBe('open');
  });

  it('the bearer scheme is case-insensitive (RFC 7235 2.1)', async () => {
    relay = await startTestRelay({ WS_TOKEN: 'correct-horse' });
    const base = `ws://127.0.0.1:${relay.ws.port}/`;
    expect(await wsAttempt(base, { Authorization: 'bearer correct-horse' })).toBe('open');
    expect(await wsAttempt(base, { Authorization: 'BEARER  correct-horse' })).toBe('open');
    expect(await wsAttempt(base, { Authorization: 'Basic correct-horse' })).toBe(401);
    expect(await wsAttempt(base, { Authorization: 'bearer wrong-horse!' })).toBe(401);
  });

  it('start-up refuses a non-loopback WS_HOST without a token unless WS_ALLOW_INSECURE=true', () => {
    const bad = parseConfig({ WS_HOST: '0.0.0.0' });
    expect(
      !bad.ok && bad.problems.some((p) => p.startsWith('WS_TOKEN: is required when WS_HOST=0.0.0.0')),
    ).toBe(true);
    expect(parseConfig({ WS_HOST: '0.0.0.0', WS_TOKEN: 'long-enough' }).ok).toBe(true);
    expect(parseConfig({ WS_HOST: '0.0.0.0', WS_ALLOW_INSECURE: 'true' }).ok).toBe(true);
    expect(parseConfig({ WS_HOST: '::1' }).ok).toBe(true);
  });
});
