import { describe, expect, it } from 'vitest';
import { SentenceSplitter } from '../../../src/ai/sentences.ts';

const split = (chunks: string[]) => {
  const s = new SentenceSplitter(40);
  const out = chunks.flatMap((c) => s.push(c).map((x) => ({ after: c, x })));
  return { out, rest: s.flush() };
};

describe('SentenceSplitter (speak the first sentence while the rest is written)', () => {
  it('emits a sentence as soon as the token after its full stop arrives', () => {
    const { out, rest } = split(['Hello', ' there.', ' How can', ' I help? ', 'Bye']);
    expect(out).toEqual([
      { after: ' How can', x: 'Hello there.' },
      { after: ' I help? ', x: 'How can I help?' },
    ]);
    expect(rest).toEqual(['Bye']);
  });

  it('keeps numbers, domains and abbreviations without a following space whole', () => {
    const { out, rest } = split(['Pi is 3.14 and the site is example.com today']);
    expect(out).toEqual([]);
    expect(rest).toEqual(['Pi is 3.14 and the site is example.com today']);
  });

  it('cuts at CJK full stops with no space, and at line breaks', () => {
    const { out, rest } = split(['您好。请问', '有什么可以帮您？好的\nnext']);
    expect(out.map((o) => o.x)).toEqual(['您好。', '请问有什么可以帮您？', '好的']);
    expect(rest).toEqual(['next']);
  });

  it('cuts a very long clause at a comma so speech can start', () => {
    const long = `${'word '.repeat(10)}and more, then the rest`;
    const { out } = split([long, ' ']);
    expect(out.map((o) => o.x)).toEqual([`${'word '.repeat(10)}and more,`]);
  });
});
