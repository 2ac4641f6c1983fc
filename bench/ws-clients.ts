// For bench/ws-fanout.bench.ts, in its own process: one legacy client and one JSON client subscribed to
// every call's audio; counts what they receive and prints it as JSON when told to stop (SIGTERM).
import WebSocket from 'ws';

const port = process.argv[2];
const legacy = new WebSocket(`ws://127.0.0.1:${port}/`);
const json = new WebSocket(`ws://127.0.0.1:${port}/v1`);
let legacyRtp = 0;
let jsonAudio = 0;
legacy.on('message', (d) => {
  if (String(d).startsWith('RTP:')) legacyRtp++;
});
json.on('message', (d) => {
  if (String(d).includes('"call.audio"')) jsonAudio++;
});
json.on('open', () => json.send(JSON.stringify({ type: 'call.subscribe', id: 1, callId: '*', audio: true })));
await Promise.all([new Promise((r) => legacy.on('open', r)), new Promise((r) => json.on('open', r))]);
console.log('ready');
process.on('SIGTERM', () => {
  console.log(JSON.stringify({ legacyRtp, jsonAudio }));
  process.exit(0);
});
