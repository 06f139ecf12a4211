import { createHmac, type KeyObject } from 'node:crypto';
import type { Address } from '../network/address.js';
import { deriveKey, signBytes, verifyBytes } from './keys.js';

/** Bytes of a handshake cookie: a MAC that only the tracker can make, cut to 128 bits as WireGuard's. */
export const COOKIE_BYTES = 16;

/**
 * The cookie the tracker puts in its challenge: a MAC of the member's ephemeral key and
 * the address the hello came from, under a secret of the current period. The tracker
 * stores nothing per hello; it makes the cookie again when the login comes, from the
 * login's own address. Mixed into the login key, it means only whoever receives at that
 * address can log in: a forged source address gets nowhere, however many hellos it sends.
 */
export function handshakeCookie(periodSecret: Buffer, clientEphemeral: Buffer, from: Address): Buffer {
	return createHmac('sha256', periodSecret).update(clientEphemeral).update(`${from.host} ${from.port}`).digest().subarray(0, COOKIE_BYTES);
}

/**
 * The login key: X25519 of the client's ephemeral key with both the tracker's static key
 * (only the real tracker can derive it, so the password reaches no one else once the
 * static key is pinned) and the tracker's period key (a later leak of the static key
 * does not open old logins), bound to the cookie and to both ephemeral keys.
 */
export function loginKey(staticSecret: Buffer, ephemeralSecret: Buffer, clientEphemeral: Buffer, trackerEphemeral: Buffer, cookie: Buffer): Buffer {
	return deriveKey(
		Buffer.concat([staticSecret, ephemeralSecret]),
		Buffer.concat([clientEphemeral, trackerEphemeral, cookie]),
		'footfall login v2',
	);
}

function proofBytes(user: string, clientEphemeral: Buffer, trackerEphemeral: Buffer, cookie: Buffer): Buffer {
	return Buffer.concat([Buffer.from(`footfall device proof v1 ${user}\n`), clientEphemeral, trackerEphemeral, cookie]);
}

/**
 * A member's proof that it holds the device key the tracker certified for it before: its
 * signature over this very handshake, so it cannot be replayed into another. The tracker
 * lets such a member in without checking its password, so guessing the password (and
 * being throttled for it) never locks the real device out.
 */
export function deviceProof(signPrivate: KeyObject, user: string, clientEphemeral: Buffer, trackerEphemeral: Buffer, cookie: Buffer): string {
	return signBytes(signPrivate, proofBytes(user, clientEphemeral, trackerEphemeral, cookie)).toString('base64');
}

export function verifyDeviceProof(signPublic: Buffer, proof: string, user: string, clientEphemeral: Buffer, trackerEphemeral: Buffer, cookie: Buffer): boolean {
	return verifyBytes(signPublic, proofBytes(user, clientEphemeral, trackerEphemeral, cookie), Buffer.from(proof, 'base64'));
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
