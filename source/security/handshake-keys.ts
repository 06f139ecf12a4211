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
 * The key two members use for every datagram between them in one epoch: their X25519
 * secret, salted with the epoch's network key so that it dies with the epoch.
 */
export function pairKey(secret: Buffer, networkKey: Buffer, epoch: number, a: string, b: string): Buffer {
	const [first, second] = a < b ? [a, b] : [b, a];
	return deriveKey(secret, networkKey, `footfall pair v1 ${epoch} ${first} ${second}`);
}
