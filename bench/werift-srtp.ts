// werift-rtp's SRTP behind our SrtpEndpoint, so that the media bench can run the relay on it: the peer
// measured in the same place as ours (`BENCH_MEDIA_SRTP=...,werift`). Bench-only: the relay uses its own.
import {
  ProtectionProfileAeadAes128Gcm,
  ProtectionProfileAes128CmHmacSha1_80,
  RtpPacket,
  SrtcpSession,
  SrtpSession,
} from 'werift-rtp';
import type { SrtpEndpoint, SrtpEngine } from '../src/rtp/srtp.ts';

export const weriftSrtp: SrtpEngine = (suite, master): SrtpEndpoint => {
  if (suite === 'AES_CM_128_HMAC_SHA1_32') throw new Error('werift-rtp has no AES_CM_128_HMAC_SHA1_32');
  const profile =
    suite === 'AEAD_AES_128_GCM' ? ProtectionProfileAeadAes128Gcm : ProtectionProfileAes128CmHmacSha1_80;
  const key = Buffer.from(master.key);
  const salt = Buffer.from(master.salt);
  // one direction per endpoint: the same master key serves as werift's local (encrypt) and remote (decrypt)
  const config = {
    keys: { localMasterKey: key, localMasterSalt: salt, remoteMasterKey: key, remoteMasterSalt: salt },
    profile,
  };
  const rtp = new SrtpSession(config);
  const rtcp = new SrtcpSession(config);
  const protectRtp = (packet: Uint8Array): Buffer => {
    const p = RtpPacket.deSerialize(Buffer.from(packet));
    return rtp.encrypt(p.payload, p.header);
  };
  return {
    overhead: suite === 'AEAD_AES_128_GCM' ? 16 : 10,
    protectRtp,
    protectRtpInPlace(buf, length) {
      const out = protectRtp(buf.subarray(0, length));
      out.copy(buf);
      return out.length;
    },
    unprotectRtpInPlace(buf) {
      try {
        return rtp.decrypt(buf);
      } catch {
        return 'authentication';
      }
    },
    protectRtcp: (packet) => rtcp.encrypt(Buffer.from(packet)),
    unprotectRtcp(packet) {
      try {
        return rtcp.decrypt(Buffer.from(packet));
      } catch {
        return 'authentication';
      }
    },
  };
};
