// A process that records a tone forever, for the SIGKILL test: argv[2] = folder. Prints "recording" once
// the first second is on disk.
import { WavRecorder } from '../../src/io/media/recording.ts';

const rec = new WavRecorder(process.argv[2]!, 'kill-me@test');
let n = 0;
setInterval(() => {
  const frame = Int16Array.from({ length: 160 }, (_, i) =>
    Math.round(8000 * Math.sin((2 * Math.PI * 440 * (n * 160 + i)) / 8000)),
  );
  rec.write(frame);
  n++;
  if (n === 60) console.log('recording');
}, 20);
