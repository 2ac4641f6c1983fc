import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readWavFile } from './audio.ts';

export interface BaresipOptions {
  /** The account's transport: calls it places go out on it (baresip appends the account's URI params). */
  readonly transport?: 'udp' | 'tcp' | 'tls';
  /** sip_certificate (certificate and key in one PEM) and sip_cafile; TLS listens on sipPort + 1. */
  readonly tls?: { readonly bundle: string; readonly ca: string };
  readonly answermode?: 'manual' | 'auto';
  /** srtp, srtp-mand, srtp-mandf (loads srtp.so); absent: plain RTP. */
  readonly mediaenc?: string;
}

/**
 * A headless baresip: microphone = a WAV (aufile), speaker = ALSA's null device, both directions recorded.
 * baresip 1.0.0 listens on UDP and TCP at sipPort and, with a certificate, on TLS at sipPort + 1.
 */
export function baresipConfig(
  dir: string,
  sipPort: number,
  mic: string,
  codec: string,
  o: BaresipOptions = {},
): string {
  const ua = join(dir, 'ua');
  const accountPort = o.transport === 'tls' ? sipPort + 1 : sipPort;
  const accountTransport = o.transport && o.transport !== 'udp' ? `;transport=${o.transport}` : '';
  mkdirSync(join(dir, 'rec'), { recursive: true });
  mkdirSync(ua, { recursive: true });
  writeFileSync(
    join(ua, 'config'),
    [
      'poll_method epoll',
      `sip_listen 127.0.0.1:${sipPort}`,
      'net_interface 127.0.0.1',
      'audio_player alsa,null',
      'audio_alert alsa,null',
      `audio_source aufile,${mic}`,
      'ausrc_srate 8000',
      'auplay_srate 8000',
      'ausrc_channels 1',
      'auplay_channels 1',
      'audio_buffer 20-160',
      'ausrc_format s16',
      'auplay_format s16',
      'auenc_format s16',
      'audec_format s16',
      'rtp_ports 46000-46099',
      'rtcp_mux no',
      'jitter_buffer_delay 5-10',
      'rtp_timeout 0',
      'module_path /usr/lib/baresip/modules',
      'module g711.so',
      'module aufile.so',
      'module alsa.so',
      'module sndfile.so',
      `snd_path ${join(dir, 'rec')}`,
      ...(o.tls ? [`sip_certificate ${o.tls.bundle}`, `sip_cafile ${o.tls.ca}`] : []),
      ...(o.mediaenc ? ['module srtp.so'] : []),
      'module_tmp account.so',
      'module_app menu.so',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(ua, 'accounts'),
    `<sip:alice@127.0.0.1:${accountPort}${accountTransport}>;regint=0;answermode=${o.answermode ?? 'manual'};` +
      `audio_codecs=${codec}${o.mediaenc ? `;mediaenc=${o.mediaenc}` : ''}\n`,
  );
  writeFileSync(join(ua, 'contacts'), '');
  return ua;
}

/** What a baresip from baresipConfig(dir, ...) recorded: `dec` = what it heard, `enc` = what it sent. */
export function baresipRecording(dir: string, which: 'dec' | 'enc'): { rate: number; samples: Int16Array } {
  const file = readdirSync(join(dir, 'rec')).find((f) => f.endsWith(`-${which}.wav`));
  if (!file) throw new Error(`baresip wrote no -${which}.wav in ${join(dir, 'rec')}`);
  return readWavFile(join(dir, 'rec', file));
}
