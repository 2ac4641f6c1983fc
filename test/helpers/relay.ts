import { basename, join } from 'node:path';
import { parseConfig } from '../../src/config/index.ts';
import { silentLogger } from '../../src/kernel/logger.ts';
import { type Relay, type RelayDeps, startRelay } from '../../src/relay.ts';

/** The real relay in-process on an ephemeral loopback port, quiet, for live tests. */
export async function startTestRelay(
  env: Record<string, string> = {},
  deps: Partial<RelayDeps> = {},
): Promise<Relay> {
  const r = parseConfig({
    SIP_LOCAL_IP: '127.0.0.1',
    SIP_LOCAL_PORT: '0',
    SIP_LOG_FILE: '',
    RECORDING: 'false',
    WS_PORT: '0',
    // never the default ports: a relay the developer runs (npm start) must not meet the tests
    RTP_PORT_START: '38000',
    RTP_PORT_END: '38999',
    GREETING_PATH: 'none', // silence unless a test gives a greeting (the built-in chime has its own test)
    ...(await traceDir()),
    ...env,
  });
  if (!r.ok) throw new Error(r.problems.join('; '));
  return startRelay(r.config, { log: silentLogger, shutdownGraceMs: 300, ...deps });
}

/**
 * TEST_CALL_TRACE_DIR: every test relay writes its call traces under that folder, one subfolder per test
 * file (scripts/call-sequences.ts compares the calls' event sequences of two such runs).
 */
async function traceDir(): Promise<Record<string, string>> {
  const root = process.env.TEST_CALL_TRACE_DIR;
  if (!root) return {};
  // only then: scripts (npm run fuzz) use this helper outside vitest
  const file = (await import('vitest')).expect.getState().testPath;
  return file ? { CALL_TRACE_DIR: join(root, basename(file)) } : {};
}
