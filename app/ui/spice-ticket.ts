/**
 * A SPICE ticket is the password encrypted with the server's 1024-bit RSA key: 128 bytes, a
 * big-endian number. spice-html5 (ticket.js, rsa_encrypt) turns the encrypted number into bytes
 * through its hex string, which drops leading zero bytes, and the ticket message then fills up with
 * zeros at the end: about one ticket in 256 reaches the server shifted, and the server answers
 * "permission denied". A console opens four or five channels, each with its own ticket, so about
 * 2 % of SPICE consoles ended at once as "connection lost" (7 in 360 people of the one-hour soak).
 * This puts the bytes back where they belong.
 */
export const SPICE_TICKET_BYTES = 128;

export function fullLengthTicket(encrypted: ArrayLike<number>): number[] {
  const bytes = Array.from(encrypted);
  if (bytes.length >= SPICE_TICKET_BYTES) return bytes;
  return [...new Array<number>(SPICE_TICKET_BYTES - bytes.length).fill(0), ...bytes];
}
