import { deriveKey } from './keys.js';

/**
 * The login key: X25519 of the client's ephemeral key with both the tracker's static key
 * (only the real tracker can derive it, so the password reaches no one else once the
 * static key is pinned) and a fresh tracker ephemeral (forward secrecy: a later leak of
 * the static key does not open old logins).
 */
export function loginKey(staticSecret: Buffer, ephemeralSecret: Buffer, clientEphemeral: Buffer, trackerEphemeral: Buffer): Buffer {
	return deriveKey(
		Buffer.concat([staticSecret, ephemeralSecret]),
		Buffer.concat([clientEphemeral, trackerEphemeral]),
		'footfall login v1',
	);
}

/**
 * The key for every datagram from `from` to `to` in one epoch: their X25519 secret,
 * salted with the epoch's network key so that it dies with the epoch. One key per
 * direction, so that the nonce (the sender's incarnation and sequence number) is never
 * used twice under one key.
 */
export function directionKey(secret: Buffer, networkKey: Buffer, epoch: number, from: string, to: string): Buffer {
	return deriveKey(secret, networkKey, `footfall datagram v1 ${epoch} ${from} -> ${to}`);
}
