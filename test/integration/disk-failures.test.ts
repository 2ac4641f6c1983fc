import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Subject } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CallRecord } from '../../src/io/records/call-records.ts';
import { CdrFile } from '../../src/io/records/cdr-file.ts';
import { Spool, type SpoolEntry } from '../../src/io/webhooks/spool.ts';
import { listLogger } from '../helpers/list-logger.ts';
import { until } from '../helpers/peers.ts';
import { Phone } from '../helpers/phone.ts';
import { startTestRelay } from '../helpers/relay.ts';

// a real full or read-only disk: a small tmpfs (needs root, as CI runs; skipped elsewhere)
const mountPoint = mkdtempSync(join(tmpdir(), 'disk-fail-'));
const mount = (opts: string) =>
  spawnSync('mount', ['-t', 'tmpfs', '-o', opts, 'tmpfs', mountPoint]).status === 0;
const umount = () => spawnSync('umount', [mountPoint]);
const remount = (opts: string) =>
  spawnSync('mount', ['-o', `remount,${opts}`, mountPoint]).status === 0 || expect.fail('remount failed');
const canMount = process.getuid?.() === 0 && mount('size=64k');
if (canMount) umount();
else console.warn('disk-failure tests skipped: mounting a small tmpfs needs root');

/** Fills the tmpfs to its last byte. */
function fill(): void {
  const buf = Buffer.alloc(4096, 1);
  for (let i = 0; ; i++) {
    try {
      writeFileSync(join(mountPoint, `filler-${i}`), buf);
    } catch {
      return;
    }
  }
}
const unfill = () => {
  for (const f of readdirSync(mountPoint)) if (f.startsWith('filler-')) rmSync(join(mountPoint, f));
};

const entry = (i: number): SpoolEntry => ({
  id: `e${i}`,
  url: 'http://127.0.0.1:9/',
  body: JSON.stringify({ n: i, pad: 'x'.repeat(5000) }),
  attempts: 0,
  firstAt: Date.now(),
});

const record = (i: number) => ({ callId: `call-${i}`, pad: 'y'.repeat(5000) }) as unknown as CallRecord;

describe.skipIf(!canMount)('a full or read-only disk never ends the relay (tmpfs)', () => {
  // a fresh disk for each test
  beforeEach(() => {
    mount('size=256k');
  });
  afterEach(() => {
    umount();
  });

  it('the spool holds what a full disk refuses in memory, counts it, and is back on disk once space returns', () => {
    const dir = join(mountPoint, 'spool-full');
    const { log, lines } = listLogger();
    const spool = new Spool(dir, 50, log);
    spool.add(entry(0));
    fill();
    for (let i = 1; i <= 20; i++) expect(() => spool.add(entry(i))).not.toThrow();
    expect(spool.size).toBe(21);
    expect(spool.inMemory).toBe(20);
    expect(spool.writeErrors).toBeGreaterThanOrEqual(20);
    expect(spool.read(spool.head!)?.id).toBe('e0'); // the one on disk is still read from disk
    // logged once, not once per event
    expect(lines.filter((l) => l.level === 'error')).toHaveLength(1);
    // attempts on an entry held in memory are kept there
    const names = readdirSync(dir);
    expect(names.filter((n) => n.endsWith('.tmp'))).toEqual([]);
    unfill();
    spool.add(entry(21));
    expect(spool.inMemory).toBe(0);
    expect(readdirSync(dir).filter((n) => n.endsWith('.json'))).toHaveLength(22);
    expect(lines.some((l) => l.msg === 'events spool: writing to disk again')).toBe(true);
    // a restart finds all of them, oldest first
    const again = new Spool(dir, 50);
    expect(again.size).toBe(22);
    expect(again.read(again.head!)?.id).toBe('e0');
  });

  it('a read-only spool folder with a leftover .tmp file does not stop start-up; events wait in memory', () => {
    const dir = join(mountPoint, 'spool-ro');
    mkdirSync(dir);
    writeFileSync(join(dir, '000000000000001-000000-old.json'), JSON.stringify(entry(7)));
    writeFileSync(join(dir, '000000000000002-000001-half.json.tmp'), '{"id":');
    remount('ro');
    try {
      const { log, lines } = listLogger();
      const spool = new Spool(dir, 10, log);
      expect(spool.size).toBe(1);
      expect(spool.read(spool.head!)?.id).toBe('e7');
      spool.add(entry(8));
      expect(spool.inMemory).toBe(1);
      expect(lines.some((l) => l.level === 'error' && /EROFS/.test(String(l.obj.err)))).toBe(true);
      spool.remove(spool.head!); // delivered: the file cannot go, the relay goes on
      expect(spool.size).toBe(1);
    } finally {
      remount('rw');
    }
  });

  it('the CDR file resumes after ENOSPC: the lines wait, whole lines only, nothing lost', async () => {
    const path = join(mountPoint, 'cdr', 'calls.jsonl');
    const records$ = new Subject<CallRecord>();
    const { log, lines } = listLogger();
    const cdr = new CdrFile(path, records$, log);
    records$.next(record(0));
    await until(() => cdr.written === 1, 2000);
    fill();
    for (let i = 1; i <= 5; i++) records$.next(record(i));
    await until(() => cdr.writeErrors >= 1, 2000);
    expect(cdr.pending).toBe(5);
    unfill();
    records$.next(record(6));
    await until(() => cdr.written === 7, 5000); // the retry (1 s) or the next line writes them all
    await cdr.close();
    const got = readFileSync(path, 'utf8').trimEnd().split('\n');
    expect(got.map((l) => JSON.parse(l).callId)).toEqual([0, 1, 2, 3, 4, 5, 6].map((i) => `call-${i}`));
    expect(lines.filter((l) => l.level === 'error')).toHaveLength(1);
    expect(lines.some((l) => l.msg === 'CDR file: writing again')).toBe(true);
  });

  it('a relay whose spool and CDR disk is full keeps taking calls, counts the failures, and recovers', async () => {
    const spoolDir = join(mountPoint, 'relay-spool');
    const cdrPath = join(mountPoint, 'relay-cdr', 'calls.jsonl');
    const { log } = listLogger();
    fill();
    const relay = await startTestRelay(
      {
        EVENTS_WEBHOOK_URL: 'http://127.0.0.1:9/events', // nobody listens: every event stays spooled
        EVENTS_SPOOL_DIR: spoolDir,
        CDR_FILE: cdrPath,
        METRICS_PORT: '0',
        RTP_PORT_START: '44900',
        RTP_PORT_END: '44949',
      },
      { log },
    );
    try {
      for (let i = 0; i < 2; i++) {
        const phone = await Phone.call(relay.sip.port);
        await new Promise((r) => setTimeout(r, 100));
        await phone.hangup();
      }
      const metrics = async () => (await fetch(`http://127.0.0.1:${relay.metrics!.port}/metrics`)).text();
      await until(() => (relay.status?.spool.size ?? 0) >= 4, 3000);
      const text = await metrics();
      expect(
        Number(/sip_relay_disk_write_errors_total\{file="spool"\} (\d+)/.exec(text)?.[1]),
      ).toBeGreaterThan(0);
      expect(Number(/sip_relay_disk_write_errors_total\{file="cdr"\} (\d+)/.exec(text)?.[1])).toBeGreaterThan(
        0,
      );
      expect(Number(/sip_relay_status_callbacks_in_memory (\d+)/.exec(text)?.[1])).toBeGreaterThan(0);
      unfill();
      const phone = await Phone.call(relay.sip.port); // the relay still answers
      await phone.hangup();
      await until(() => existsSync(cdrPath) && readFileSync(cdrPath, 'utf8').split('\n').length === 4, 5000);
      await until(() => relay.status?.spool.inMemory === 0, 3000);
      expect(readdirSync(spoolDir).filter((n) => n.endsWith('.json')).length).toBe(relay.status?.spool.size);
    } finally {
      await relay.close();
    }
  });
});
