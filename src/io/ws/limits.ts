/**
 * What one WebSocket peer can make the relay hold (README, Security). Worst case for received data: clients
 * x one message being received = WS_MAX_CLIENTS x MAX_MESSAGE_BYTES (50 x 4 MiB = 200 MiB by default).
 */

/**
 * Largest message taken, either way (clients, media-stream bots). The original protocol promises "at least
 * 1 MiB"; 4 MiB holds a minute of 24 kHz 16-bit audio in JSON base64. Larger is refused (close 1009).
 */
export const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
/** Audio events are dropped first once a client has this much unsent; control events are not. */
export const DROP_AUDIO_AT = 512 * 1024;
/** A client this far behind is closed (with a logged reason) rather than let memory grow. */
export const CLOSE_AT = 8 * 1024 * 1024;
