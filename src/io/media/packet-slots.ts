import { FRAME_SAMPLES } from '../../media/playout-queue.ts';

/** An outgoing packet buffer with its payload view, made once and reused. */
export interface PacketSlot {
  /** The whole buffer: the packet, then room for an SRTP tag. */
  readonly buffer: Buffer;
  readonly packet: Uint8Array;
  readonly payload: Uint8Array;
}

/** Room after an RTP packet for the longest SRTP tag (AEAD_AES_128_GCM's 16 bytes). */
const SRTP_ROOM = 16;
/** Buffers kept for reuse: a socket that completes sends in order needs one or two. */
const KEPT = 8;

/**
 * One stream's outgoing packet buffers: a buffer is taken for each frame, handed to the socket, and comes
 * back when the socket has finished with it (sends complete in order), so a stream makes no garbage per
 * packet. Room is left after each packet for its SRTP tag, so encryption happens in place.
 */
export class PacketSlots {
  readonly #free: PacketSlot[] = [];
  readonly #inFlight: PacketSlot[] = [];

  /** A buffer for the next packet, now in flight. */
  take(): PacketSlot {
    const slot = this.#free.pop() ?? newSlot();
    this.#inFlight.push(slot);
    return slot;
  }

  /** The socket finished the oldest send: its buffer may be reused (a bound callback for socket.send). */
  readonly sent = (): void => {
    const slot = this.#inFlight.shift();
    if (slot && this.#free.length < KEPT) this.#free.push(slot);
  };
}

function newSlot(): PacketSlot {
  const buffer = Buffer.alloc(12 + FRAME_SAMPLES + SRTP_ROOM);
  const packet = buffer.subarray(0, 12 + FRAME_SAMPLES);
  return { buffer, packet, payload: packet.subarray(12) };
}
