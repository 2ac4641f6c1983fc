import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.ts';
import { hasBinary } from '../helpers/peers.ts';
import { startTestRelay } from '../helpers/relay.ts';

// No container engine runs on this machine (and no registry serves base images), so the image is checked
// statically: what it copies exists, what it runs is what npm start runs, its health check works.
const root = resolve(import.meta.dirname, '../..');
const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
const unit = readFileSync(join(root, 'deploy/sip-relay.service'), 'utf8');
const lines = dockerfile.replace(/\\\n/g, ' ').split('\n');
const runtime = lines.slice(lines.findLastIndex((l) => l.startsWith('FROM ')));

/** The Dockerfile's ENV settings in the runtime stage. */
function runtimeEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const l of runtime.filter((x) => x.startsWith('ENV ')))
    for (const m of l.slice(4).matchAll(/([A-Z_]+)=(\S*)/g)) env[m[1]!] = m[2]!;
  return env;
}

/** The node -e script of a command line (the Docker HEALTHCHECK, the unit's ExecStartPost). */
function runCheck(script: string, metricsPort: number | undefined): Promise<number | null> {
  // not spawnSync: the relay answering the check runs in this process
  const child = spawn(process.execPath, ['-e', script], {
    env: { ...process.env, METRICS_PORT: metricsPort === undefined ? '' : String(metricsPort) },
    stdio: 'ignore',
    timeout: 20_000,
  });
  return new Promise((r) => child.on('exit', (code) => r(code)));
}

describe('the container image (static: no container engine here)', () => {
  it('copies only files that exist after npm run build, none of them excluded by .dockerignore', () => {
    spawnSync('npm', ['run', 'build', '--silent'], { cwd: root });
    const ignored = readFileSync(join(root, '.dockerignore'), 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'));
    const copies = lines.filter((l) => l.startsWith('COPY ') && !l.includes('--from='));
    expect(copies.length).toBeGreaterThan(3);
    for (const c of copies) {
      const sources = c.split(/\s+/).slice(1, -1);
      for (const s of sources) {
        expect(existsSync(join(root, s)), s).toBe(true);
        expect(
          ignored.some((i) => s === i || s.startsWith(`${i}/`)),
          `${s} is in .dockerignore`,
        ).toBe(false);
      }
    }
    expect(existsSync(join(root, 'dist/main.js'))).toBe(true); // COPY --from=build /app/dist
  });

  it('runs node directly as an unprivileged user, as npm start does, and exposes SIP and the RTP range', () => {
    const start = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts.start as string;
    const cmd = JSON.parse(runtime.find((l) => l.startsWith('CMD '))!.slice(4)) as string[];
    expect(`exec ${cmd.join(' ')}`).toBe(start); // exec form: node is PID 1 and gets SIGTERM
    expect(runtime.find((l) => l.startsWith('USER '))).toBe('USER node');
    const env = runtimeEnv();
    const expose = runtime.find((l) => l.startsWith('EXPOSE '))!;
    expect(expose).toContain(`${env.SIP_LOCAL_PORT}/udp`);
    expect(expose).toContain(`${env.SIP_LOCAL_PORT}/tcp`); // SIP_TRANSPORTS' default is udp,tcp
    expect(expose).toContain(`${env.RTP_PORT_START}-${env.RTP_PORT_END}/udp`);
    expect(expose).toContain(`${env.METRICS_PORT}/tcp`);
  });

  it("compose.yaml's placeholders are refused or warned about, not taken silently", () => {
    const compose = readFileSync(join(root, 'compose.yaml'), 'utf8');
    const env: Record<string, string> = { ...runtimeEnv() };
    for (const m of compose.matchAll(/^ {6}([A-Z0-9_]+): (\S+)/gm)) env[m[1]!] = m[2]!;
    const r = parseConfig(env);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.problems).toEqual([expect.stringMatching(/^WS_TOKEN: is the example placeholder/)]);
  });

  it('its settings are valid once the two an operator must give are set, and name them otherwise', () => {
    const env = runtimeEnv();
    const bare = parseConfig(env);
    expect(bare.ok).toBe(false);
    if (!bare.ok) {
      expect(bare.problems.some((p) => p.startsWith('SIP_PUBLIC_IP'))).toBe(true);
      expect(bare.problems.some((p) => p.startsWith('WS_TOKEN'))).toBe(true);
    }
    expect(parseConfig({ ...env, SIP_PUBLIC_IP: '192.0.2.10', WS_TOKEN: 'long-enough-token' }).ok).toBe(true);
  });

  it('its HEALTHCHECK (and the unit’s start check) pass against a running relay and fail without one', async () => {
    const health = JSON.parse(
      runtime.find((l) => l.startsWith('HEALTHCHECK'))!.replace(/^.*CMD\s+/, ''),
    ) as string[];
    expect(health.slice(0, 2)).toEqual(['node', '-e']);
    const post = /^ExecStartPost=\/usr\/bin\/node -e "(.*)"$/m.exec(unit)?.[1];
    expect(post).toBeDefined();
    const relay = await startTestRelay({ METRICS_PORT: '0' });
    try {
      expect(await runCheck(health[2]!, relay.metrics!.port)).toBe(0);
      expect(await runCheck(post!, relay.metrics!.port)).toBe(0);
    } finally {
      await relay.close();
    }
    expect(await runCheck(health[2]!, relay.metrics!.port)).toBe(1);
    expect(await runCheck(post!, undefined)).toBe(0); // without METRICS_PORT the unit does not wait
  }, 40_000);
});

describe('the systemd unit', () => {
  it('starts node as npm start does, lets the graceful shutdown finish, and may run real-time', () => {
    const start = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts.start as string;
    const exec = /^ExecStart=(.*)$/m.exec(unit)![1]!;
    expect(exec.replace('/usr/bin/node', 'exec node').replace('/opt/sip-relay/', '')).toBe(start);
    expect(unit).toMatch(/^Restart=on-failure$/m);
    expect(unit).toMatch(/^KillMode=mixed$/m);
    expect(Number(/^TimeoutStopSec=(\d+)$/m.exec(unit)?.[1])).toBeGreaterThanOrEqual(10);
    expect(unit).toMatch(/^LimitRTPRIO=\d+$/m);
    expect(unit).toMatch(/^AmbientCapabilities=CAP_SYS_NICE$/m);
  });

  it.skipIf(!hasBinary('systemd-analyze'))('passes systemd-analyze verify', () => {
    const r = spawnSync('systemd-analyze', ['verify', join(root, 'deploy/sip-relay.service')], {
      encoding: 'utf8',
      env: { ...process.env, SYSTEMD_LOG_LEVEL: 'warning' },
    });
    expect(r.stderr.split('\n').filter((l) => l && !/not found|No such file|opt\/sip-relay/.test(l))).toEqual(
      [],
    );
  });
});
