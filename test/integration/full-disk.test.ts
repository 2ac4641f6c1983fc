import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadGreeting } from '../../src/io/media/audio-file.ts';
import { WavRecorder } from '../../src/io/media/recording.ts';
import { readWav, wavHeader } from '../../src/media/wav.ts';
import { listLogger } from '../helpers/list-logger.ts';
import { Phone, peakOf } from '../helpers/phone.ts';
import { startTestRelay } from '../helpers/relay.ts';

// a real full disk: a 96 KiB tmpfs (needs root, as CI runs; skipped elsewhere)
const mountPoint = mkdtempSync(join(tmpdir(), 'full-disk-'));
const mounted =
  process.getuid?.() === 0 &&
  spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=96k', 'tmpfs', mountPoint]).status === 0;
if (!mounted) console.warn('full-disk tests skipped: mounting a small tmpfs needs root');

describe.skipIf(!mounted)('a full disk (96 KiB tmpfs)', () => {
  afterAll(() => {
    spawnSync('umount', [mountPoint]);
  });
  beforeAll(() => mkdirSync(join(mountPoint, 'rec'), { recursive: true }));

  it('the header counts only what reached the disk, the failure is reported once, the next file is not left empty', async () => {
    const errors: string[] = [];
    const rec = new WavRecorder(join(mountPoint, 'rec'), 'call-one', {
      onError: (e) => errors.push(e.message),
    });
    for (let i = 0; i < 500; i++) rec.write(new Int16Array(160).fill(1234)); // 10 s: 160,000 bytes
    await rec.close();
    expect(errors).toHaveLength(1);
    expect(rec.failed).toBeDefined();
    const raw = readFileSync(rec.path);
    const claimed = raw.readUInt32LE(40);
    expect(claimed).toBe(raw.length - 44); // true to the file, not 160,000
    expect(claimed).toBeLessThan(160_000);
    const w = readWav(raw);
    expect(w.ok && w.value.samples.length).toBe(claimed / 2);
    expect(Math.round(rec.savedMs)).toBe(Math.round((claimed / 2 / 8000) * 1000));
    // the disk is full now: the next call's recording fails at once and leaves no 0-byte file
    expect(() => new WavRecorder(join(mountPoint, 'rec'), 'call-two')).toThrow(/ENOSPC/);
    expect(readdirSync(join(mountPoint, 'rec'))).toEqual([rec.path.split('/').at(-1)]);
  });

  it('the relay logs a recording that hit a full disk as an error, not as saved', async () => {
    rmSync(join(mountPoint, 'rec'), { recursive: true, force: true });
    const dir = join(mountPoint, 'rec2');
    mkdirSync(dir);
    writeFileSync(join(mountPoint, 'filler'), Buffer.alloc(80 * 1024)); // leaves about a second of audio
    const { log, lines } = listLogger();
    const relay = await startTestRelay(
      { RECORDING: 'true', RECORDING_DIR: dir, RTP_PORT_START: '44800', RTP_PORT_END: '44899' },
      { log },
    );
    const phone = await Phone.call(relay.sip.port);
    await new Promise((r) => setTimeout(r, 2500));
    await phone.hangup();
    await relay.close();
    const failed = lines.find((l) => l.msg === 'recording incomplete: saved up to the failure');
    expect(failed?.level).toBe('error');
    expect(lines.some((l) => l.msg === 'recording saved')).toBe(false);
    const file = join(dir, readdirSync(dir)[0]!);
    expect(readFileSync(file).readUInt32LE(40)).toBe(statSync(file).size - 44);
  });
});

describe('recordings and greetings', () => {
  it('a call without any audio leaves no recording', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rec-empty-'));
    const rec = new WavRecorder(dir, 'silent-call');
    await rec.close();
    expect(rec.removed).toBe(true);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a greeting cut inside its fmt chunk is a warning and the relay starts without it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'greet-'));
    const path = join(dir, 'greeting.wav');
    writeFileSync(path, wavHeader(8000, 1, 1000).subarray(0, 30));
    const { log, lines } = listLogger();
    expect(loadGreeting(path, log)).toBeUndefined();
    expect(lines).toEqual([
      expect.objectContaining({ level: 'warn', msg: 'greeting unreadable: calls go on without one' }),
    ]);
    const relay = await startTestRelay({
      GREETING_PATH: path,
      RTP_PORT_START: '44800',
      RTP_PORT_END: '44899',
    });
    const phone = await Phone.call(relay.sip.port); // and it takes calls
    await phone.hangup();
    await relay.close();
  });

  it('a fresh install greets with the built-in chime; GREETING_PATH=none is silence', async () => {
    const heardPeak = async (env: Record<string, string>) => {
      const relay = await startTestRelay({ OUTPUT_DIR: mkdtempSync(join(tmpdir(), 'out-')), ...env });
      const phone = await Phone.call(relay.sip.port);
      await new Promise((r) => setTimeout(r, 1200));
      await phone.hangup();
      await relay.close();
      return Math.max(0, ...phone.heard.map((h) => peakOf(h.samples)));
    };
    expect(await heardPeak({ GREETING_PATH: '' })).toBeGreaterThan(3000);
    expect(await heardPeak({ GREETING_PATH: 'none' })).toBeLessThan(100);
  });
});
