import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readWavFile } from './audio.ts';

/** A headless baresip: microphone = a WAV (aufile), speaker = ALSA's null device, both directions recorded. */
export function baresipConfig(dir: string, sipPort: number, mic: string, codec: string): string {
  const ua = join(dir, 'ua');
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
      'module_tmp account.so',
      'module_app menu.so',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(ua, 'accounts'),
    `<sip:alice@127.0.0.1:${sipPort}>;regint=0;answermode=manual;audio_codecs=${codec}\n`,
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
