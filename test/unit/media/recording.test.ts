import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { recordingName, removeOldRecordings, WavRecorder } from '../../../src/io/media/recording.ts';
import { readWav } from '../../../src/media/wav.ts';

const root = resolve(import.meta.dirname, '../../..');

describe('recordings', () => {
  it('are named {YYYYmmdd_HHMMSS}_{first 8 chars of the Call-ID}.wav, as the original did', () => {
    expect(recordingName('a84b4c76e66710@pc33.atlanta.com', new Date(2026, 10, 24, 9, 5, 7))).toBe(
      '20261124_090507_a84b4c76.wav',
    );
  });

  it('no Call-ID can place a file outside the folder', async () => {
    const at = new Date(2026, 0, 2, 3, 4, 5);
    for (const hostile of [
      '../../etc/passwd',
      '/etc/pas',
      '..',
      '.',
      'a\u0000b/c',
      '\r\n\t\u0007x',
      '..\\..\\x',
      '',
    ]) {
      const name = recordingName(hostile, at);
      expect(name).toMatch(/^20260102_030405_[A-Za-z0-9_][A-Za-z0-9._-]*\.wav$/);
      expect(name).not.toContain('/');
      expect(name.includes('..')).toBe(false);
    }
    const dir = mkdtempSync(join(tmpdir(), 'rec-'));
    const rec = new WavRecorder(dir, '../../../tmp/evil');
    rec.write(new Int16Array(160)); // a recording without audio would be removed
    await rec.close();
    expect(resolve(rec.path).startsWith(`${resolve(dir)}/`)).toBe(true);
    expect(readdirSync(dir)).toHaveLength(1);
  });

  it('mono by default, stereo with the caller left and the relay right; header valid at the end', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rec-'));
    const mono = new WavRecorder(dir, 'mono-call');
    const stereo = new WavRecorder(dir, 'stereo-call', { stereo: true });
    for (let i = 0; i < 75; i++) {
      mono.write(new Int16Array(160).fill(1000));
      stereo.write(new Int16Array(160).fill(1000), new Int16Array(160).fill(-2000));
    }
    await Promise.all([mono.close(), stereo.close()]);
    const m = readWav(readFileSync(mono.path));
    expect(m.ok && [m.value.sampleRate, m.value.samples.length]).toEqual([8000, 75 * 160]);
    const raw = readFileSync(stereo.path);
    expect(raw.readUInt16LE(22)).toBe(2);
    expect([raw.readInt16LE(44), raw.readInt16LE(46)]).toEqual([1000, -2000]);
    expect(raw.readUInt32LE(40)).toBe(75 * 160 * 4);
  });

  it('a recording killed mid-call (SIGKILL) is still a readable WAV up to its last header update', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rec-kill-'));
    // node itself (not the tsx CLI, which would leave its child running): SIGKILL must hit the writer
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(root, 'test/helpers/record-child.ts'), dir],
      {
        cwd: root,
        stdio: 'pipe',
      },
    );
    await new Promise<void>((r) => child.stdout!.on('data', (d) => String(d).includes('recording') && r()));
    await new Promise((r) => setTimeout(r, 1300)); // a second header update
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    const file = join(dir, readdirSync(dir)[0]!);
    const size = statSync(file).size;
    await new Promise((r) => setTimeout(r, 300));
    expect(statSync(file).size).toBe(size); // nobody writes any more: the writer is really dead
    const w = readWav(readFileSync(file));
    expect(w.ok).toBe(true);
    if (!w.ok) return;
    const seconds = w.value.samples.length / 8000;
    expect(seconds).toBeGreaterThanOrEqual(1);
    expect(readFileSync(file).readUInt32LE(40)).toBe(w.value.samples.length * 2); // header agrees with data
  }, 20_000);

  it('recordings older than MAX_RECORDING_AGE_DAYS are removed at start-up, others stay', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rec-old-'));
    writeFileSync(join(dir, 'old.wav'), 'x');
    writeFileSync(join(dir, 'new.wav'), 'x');
    writeFileSync(join(dir, 'notes.txt'), 'x');
    const tenDaysAgo = new Date(Date.now() - 10 * 86_400_000);
    utimesSync(join(dir, 'old.wav'), tenDaysAgo, tenDaysAgo);
    utimesSync(join(dir, 'notes.txt'), tenDaysAgo, tenDaysAgo);
    expect(removeOldRecordings(dir, 7)).toBe(1);
    expect(readdirSync(dir).sort()).toEqual(['new.wav', 'notes.txt']);
  });
});
