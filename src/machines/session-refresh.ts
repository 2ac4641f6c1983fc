import { dialogGone } from '../sip/dialog/reinvite.ts';
import {
  readMinSE,
  type SessionTimer,
  type SessionTimerSettings,
  sessionTimerDelays,
  uacSessionTimer,
  uasSessionTimer,
} from '../sip/dialog/session-timer.ts';
import type { ParsedResponse } from '../sip/message/parse.ts';
import type { SipMessage } from '../sip/message/types.ts';
import type { DialogHost } from './dialog-host.ts';

export const DEFAULT_SESSION_TIMERS: SessionTimerSettings = { expires: 1800, minSE: 90 };

/**
 * A call's session timer (RFC 4028) at run time: the timers on the call's clock, the refresh we send when we
 * are the refresher (UPDATE when the peer allows it, RFC 3311, else a re-INVITE), and the headers for the
 * answers to the peer's refreshes. The machine decides what a fired timer or a failed refresh means.
 */
export class SessionRefresh {
  #timer: SessionTimer | undefined;

  constructor(
    private readonly host: DialogHost,
    private readonly reinvite: (
      headers: Array<[string, string]>,
      done: (status: number, r?: ParsedResponse) => void,
    ) => boolean,
  ) {}

  get settings(): SessionTimerSettings {
    return this.host.settings.sessionTimers ?? DEFAULT_SESSION_TIMERS;
  }

  get timer(): SessionTimer | undefined {
    return this.#timer;
  }

  /** (Re)starts the timers for `timer`, or stops them (no session timer). */
  arm(timer: SessionTimer | undefined): void {
    const h = this.host;
    this.#timer = timer;
    h.cancel('sessionRefresh');
    h.cancel('sessionExpired');
    if (!timer) return;
    const { refreshMs, expireMs } = sessionTimerDelays(timer);
    if (refreshMs !== undefined) h.after('sessionRefresh', refreshMs, { type: 'timer.sessionRefresh' });
    h.after('sessionExpired', expireMs, { type: 'timer.sessionExpired' });
  }

  /** The peer's INVITE, re-INVITE or UPDATE: what to answer (RFC 4028 9). */
  answer(req: SipMessage) {
    return uasSessionTimer(req, this.settings);
  }

  /**
   * Our refresh (RFC 4028 7.1 / 10): Session-Expires with refresher=uac (we keep refreshing) in an UPDATE
   * without a body when the peer allows UPDATE, else in a re-INVITE (which must carry an offer). A 2xx
   * restarts the timers; a 422 raises the interval to its Min-SE and refreshes again at once.
   */
  refresh(peerAllowsUpdate: boolean): void {
    const h = this.host;
    const t = this.#timer;
    if (!t) return;
    const headers: Array<[string, string]> = [
      ['Session-Expires', `${t.interval};refresher=uac`],
      ['Min-SE', String(Math.max(this.settings.minSE, 90))],
    ];
    const done = (status: number, r?: ParsedResponse) => {
      if (status >= 200 && status < 300 && r) {
        this.arm(uacSessionTimer(r.msg) ?? t);
        h.send({ type: 'sip.refreshed' });
        return;
      }
      if (status === 422 && r) this.#timer = { ...t, interval: Math.max(t.interval, readMinSE(r.msg)) };
      h.send({ type: 'sip.refreshFailed', status });
      if (dialogGone(status)) return; // the machine ends the call
      // still refreshing within the interval: again soon (the expiry timer keeps running meanwhile)
      h.after('sessionRefresh', status === 422 ? 0 : Math.min(10_000, (t.interval * 1000) / 8), {
        type: 'timer.sessionRefresh',
      });
    };
    h.log.debug({ interval: t.interval, method: peerAllowsUpdate ? 'UPDATE' : 'INVITE' }, 'session refresh');
    if (!peerAllowsUpdate) {
      if (!this.reinvite(headers, done)) done(491);
      return;
    }
    if (!h.usage.dialog) return;
    // RFC 3311 5.1: UPDATE is a target refresh request: it carries a Contact
    h.usage.request(
      'UPDATE',
      { contact: h.contact(), headers: [...headers, ['Supported', h.core.supported]] },
      done,
    );
  }
}
