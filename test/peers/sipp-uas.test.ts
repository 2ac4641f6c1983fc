import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Relay } from '../../src/relay.ts';
import { buildRequest } from '../../src/sip/message/build.ts';
import { newBranch, newCallId, newTag } from '../../src/sip/message/ids.ts';
import type { ParsedResponse } from '../../src/sip/message/parse.ts';
import { viaSentBy } from '../../src/sip/message/via.ts';
import { freeUdpPort, hasBinary, run, sippStat } from '../helpers/peers.ts';
import { startTestRelay } from '../helpers/relay.ts';

const root = resolve(import.meta.dirname, '../..');

describe.skipIf(!hasBinary('sipp'))(
  'the relay as a UAC: a request to sipp through a client transaction',
  () => {
    let relay: Relay;
    beforeAll(async () => {
      relay = await startTestRelay();
    });
    afterAll(async () => {
      await relay.close();
    });

    it('OPTIONS leaves from the SIP socket with rport; sipp answers 200 and the transaction delivers it', async () => {
      const work = mkdtempSync(join(tmpdir(), 'sipp-uas-'));
      const sippPort = await freeUdpPort();
      const sipp = run(
        'sipp',
        [
          '-sf',
          join(root, 'test/peers/sipp/uas-options.xml'),
          '-i',
          '127.0.0.1',
          '-p',
          String(sippPort),
          '-m',
          '1',
          '-timeout',
          '15s',
          '-timeout_error',
          '-nostdin',
          '-trace_err',
          '-trace_stat',
          '-trace_msg',
        ],
        { cwd: work, timeoutMs: 20_000 },
      );
      await new Promise((r) => setTimeout(r, 500)); // let sipp bind
      const local = relay.core.local;
      const request = buildRequest({
        method: 'OPTIONS',
        uri: `sip:sipp@127.0.0.1:${sippPort}`,
        via: local,
        branch: newBranch(),
        from: `<sip:relay@${local.host}:${local.port}>;tag=${newTag()}`,
        to: `<sip:sipp@127.0.0.1:${sippPort}>`,
        callId: newCallId(local.host),
        cseq: 1,
      });
      const response = await new Promise<ParsedResponse | string>((resolve) => {
        relay.core.sendRequest(
          request,
          { host: '127.0.0.1', port: sippPort },
          {
            onResponse: (r) => resolve(r),
            onTimeout: () => resolve('timeout'),
            onTransportError: () => resolve('transport error'),
          },
        );
      });
      const done = await sipp;
      expect(typeof response === 'string' ? response : response.msg.status).toBe(200);
      if (typeof response !== 'string')
        expect(viaSentBy(response.via[0]!)).toBe(`${local.host}:${local.port}`);
      expect(local.port).toBe(relay.sip.port);
      expect(done.code, done.stdout + done.stderr).toBe(0);
      expect(sippStat(work, 'SuccessfulCall(C)')).toBe('1');
    });
  },
);
