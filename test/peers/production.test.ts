import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freeUdpPort } from '../helpers/peers.ts';
import { optionsRequest, UdpPeer } from '../helpers/udp-client.ts';

const root = resolve(import.meta.dirname, '../..');

/** The project as a fresh clone has it (tracked files and new ones git does not ignore), in a temp dir. */
function freshCopy(withDist: boolean): string {
  const dir = mkdtempSync(join(tmpdir(), 'relay-copy-'));
  const files = spawnSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], {
    cwd: root,
    encoding: 'utf8',
  }).stdout.split('\0');
  for (const f of files) {
    if (!f || !existsSync(join(root, f))) continue;
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    cpSync(join(root, f), join(dir, f));
  }
  if (withDist) cpSync(join(root, 'dist'), join(dir, 'dist'), { recursive: true });
  return dir;
}

function npm(dir: string, args: string[]) {
  const r = spawnSync('npm', [...args, '--prefer-offline', '--no-audit', '--no-fund'], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 180_000,
  });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

/** `npm start` in `dir`; resolves once it answers an OPTIONS with 200, then stops it (exit code). */
async function startAndProbe(dir: string): Promise<{ status: number | undefined; exit: number | null }> {
  const port = await freeUdpPort();
  const relay: ChildProcess = spawn('npm', ['start', '--silent'], {
    cwd: dir,
    env: { ...process.env, SIP_LOCAL_PORT: String(port), WS_PORT: '0', SIP_LOG_FILE: '', RECORDING: 'false' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  relay.stdout!.on('data', (d) => (out += d));
  relay.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => relay.on('exit', (c) => r(c)));
  for (let i = 0; i < 300 && !out.includes('SIP relay listening'); i++)
    await new Promise((r) => setTimeout(r, 50));
  const peer = await UdpPeer.open();
  await peer.send(optionsRequest(peer.port, 'z9hG4bK-prod'), port);
  const status = (await peer.waitFor('z9hG4bK-prod', 2000))?.status;
  await peer.close();
  await new Promise((r) => setTimeout(r, 500)); // npm forwards signals only a moment after it spawned node
  relay.kill('SIGTERM');
  const exit = await exited;
  if (status !== 200) console.log(out);
  return { status, exit };
}

describe('installing and starting as a user would', () => {
  it('a fresh clone: npm install builds dist/ (prepare), npm start runs the built relay', async () => {
    const dir = freshCopy(false);
    const install = npm(dir, ['install']);
    expect(install.code, install.out.slice(-2000)).toBe(0);
    expect(existsSync(join(dir, 'dist', 'main.js'))).toBe(true);
    expect(await startAndProbe(dir)).toEqual({ status: 200, exit: 0 });
  }, 240_000);

  it('production: npm ci --omit=dev after a build starts the relay with no dev dependency', async () => {
    spawnSync('npm', ['run', 'build', '--silent'], { cwd: root });
    const dir = freshCopy(true);
    const install = npm(dir, ['ci', '--omit=dev']);
    expect(install.code, install.out.slice(-2000)).toBe(0);
    for (const dev of ['tsx', 'typescript', 'vitest', '@biomejs/biome'])
      expect(existsSync(join(dir, 'node_modules', dev)), dev).toBe(false);
    expect(await startAndProbe(dir)).toEqual({ status: 200, exit: 0 });
  }, 240_000);
});

describe('the systemd unit, installed as its header says', () => {
  const unit = readFileSync(join(root, 'deploy/sip-relay.service'), 'utf8');
  /** The header's install commands, in order, with /opt/sip-relay and /etc moved under `dir`. */
  const steps = (dir: string) =>
    unit
      .split('\n')
      .filter((l) => /^# {3}\S/.test(l))
      .map((l) =>
        l
          .slice(4)
          .replace(/\s+# .*$/, '')
          .replaceAll('/opt/sip-relay', join(dir, 'opt'))
          .replaceAll('/etc/', `${join(dir, 'etc')}/`),
      );

  it('the copy and npm ci step runs as written; the environment file overrides none of the paths the unit sets', async () => {
    spawnSync('npm', ['run', 'build', '--silent'], { cwd: root });
    const dir = mkdtempSync(join(tmpdir(), 'unit-install-'));
    const all = steps(dir);
    // useradd, install -o/-g and systemctl need a system with systemd: the file steps are checked below
    const copy = all.find((s) => s.includes('npm ci'))!;
    expect(copy).toMatch(/--omit=dev/);
    // the command as written; npm reads these settings from the environment (the cache first: the tests
    // before this one filled it)
    const r = spawnSync('bash', ['-c', `set -e; ${copy}`], {
      cwd: root,
      encoding: 'utf8',
      timeout: 180_000,
      env: {
        ...process.env,
        npm_config_prefer_offline: 'true',
        npm_config_audit: 'false',
        npm_config_fund: 'false',
      },
    });
    expect(r.status, `${r.stdout}${r.stderr}`.slice(-2000)).toBe(0);
    expect(existsSync(join(dir, 'opt', 'dist', 'main.js'))).toBe(true);
    expect(existsSync(join(dir, 'opt', 'node_modules', 'typescript'))).toBe(false);
    // the file the header installs as the EnvironmentFile: systemd lets it win over Environment=
    const envFile = /install .* (\S+) \S+sip-relay\.env/.exec(
      all.find((s) => s.startsWith('install '))!,
    )![1]!;
    const set = readFileSync(join(root, envFile), 'utf8')
      .split('\n')
      .flatMap((l) => /^([A-Z0-9_]+)=/.exec(l)?.[1] ?? []);
    const unitSets = (/^Environment=(.*)$/m.exec(unit)![1]!.match(/[A-Z0-9_]+(?==)/g) ?? []) as string[];
    expect(unitSets.sort()).toEqual(['OUTPUT_DIR', 'RECORDING_DIR', 'SIP_LOG_FILE']);
    expect(set.filter((k) => unitSets.includes(k))).toEqual([]);
    // and the unit's ExecStart starts what was installed
    const exec = /^ExecStart=(.*)$/m
      .exec(unit)![1]!
      .replaceAll('/opt/sip-relay', join(dir, 'opt'))
      .split(' ');
    const port = await freeUdpPort();
    const relay = spawn(process.execPath, exec.slice(1), {
      cwd: join(dir, 'opt'),
      env: {
        PATH: process.env.PATH,
        SIP_LOCAL_PORT: String(port),
        WS_PORT: '0',
        RECORDING_DIR: join(dir, 'state', 'recording'),
        OUTPUT_DIR: join(dir, 'state', 'output'),
        SIP_LOG_FILE: '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    relay.stdout!.on('data', (d) => (out += d));
    relay.stderr!.on('data', (d) => (out += d));
    for (let i = 0; i < 300 && !out.includes('SIP relay listening'); i++)
      await new Promise((r) => setTimeout(r, 50));
    const peer = await UdpPeer.open();
    await peer.send(optionsRequest(peer.port, 'z9hG4bK-unit'), port);
    expect((await peer.waitFor('z9hG4bK-unit', 2000))?.status, out).toBe(200);
    await peer.close();
    relay.kill('SIGTERM');
    expect(await new Promise((r) => relay.on('exit', (c) => r(c)))).toBe(0);
  }, 240_000);
});
