import {
	createCipheriv,
	createDecipheriv,
	createPrivateKey,
	createPublicKey,
	diffieHellman,
	hkdfSync,
	sign as edSign,
	verify as edVerify,
	type KeyObject,
} from 'node:crypto';
import type { Random } from '../runtime/random.js';

/**
 * A member's long-lived keys: Ed25519 to sign what a third party must be able to check
 * (certificates), X25519 to agree pairwise keys that authenticate every datagram cheaply
 * (an Ed25519 verify per datagram would cap a receiver near 7k datagrams/s; AES-GCM
 * under a pairwise key costs ~12 µs).
 */
export interface Identity {
	readonly signPrivate: KeyObject;
	readonly signPublic: Buffer;
	readonly agreePrivate: KeyObject;
	readonly agreePublic: Buffer;
}

export const KEY_BYTES = 32;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;

/** A fresh identity; its keys come from `random`, so a seeded simulation makes the same ones every run. */
export function generateIdentity(random: Random): Identity {
	const signPrivate = privateKeyFromSeed(random.bytes(KEY_BYTES), 'Ed25519');
	const agreePrivate = privateKeyFromSeed(random.bytes(KEY_BYTES), 'X25519');
	return {
		signPrivate,
		signPublic: rawPublic(createPublicKey(signPrivate)),
		agreePrivate,
		agreePublic: rawPublic(createPublicKey(agreePrivate)),
	};
}

/** PKCS#8 prefixes of a 32-byte private key (RFC 8410): the slow but always-valid way in. */
const PKCS8_PREFIX = {
	Ed25519: Buffer.from('302e020100300506032b657004220420', 'hex'),
	X25519: Buffer.from('302e020100300506032b656e04220420', 'hex'),
} as const;

/** A placeholder public half: node derives the public key from `d` and does not read `x` back. */
const PLACEHOLDER_X = Buffer.alloc(KEY_BYTES, 9).toString('base64url');

/**
 * An Ed25519 or X25519 private key from 32 seed bytes. Through JWK it costs ~37 µs
 * against ~370 µs for PKCS#8 here; should a later node insist that `x` match `d`, the
 * PKCS#8 path still works.
 */
export function privateKeyFromSeed(seed: Buffer, curve: 'Ed25519' | 'X25519'): KeyObject {
	try {
		return createPrivateKey({ key: { kty: 'OKP', crv: curve, d: seed.toString('base64url'), x: PLACEHOLDER_X }, format: 'jwk' });
	} catch {
		return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX[curve], seed]), format: 'der', type: 'pkcs8' });
	}
}

/** Serialises an identity's private keys (PKCS#8 DER, base64) for a data directory. */
export function exportIdentity(identity: Identity): { sign: string; agree: string } {
	return {
		sign: identity.signPrivate.export({ format: 'der', type: 'pkcs8' }).toString('base64'),
		agree: identity.agreePrivate.export({ format: 'der', type: 'pkcs8' }).toString('base64'),
	};
}

export function importIdentity(saved: { sign: string; agree: string }): Identity {
	const signPrivate = createPrivateKey({ key: Buffer.from(saved.sign, 'base64'), format: 'der', type: 'pkcs8' });
	const agreePrivate = createPrivateKey({ key: Buffer.from(saved.agree, 'base64'), format: 'der', type: 'pkcs8' });
	return {
		signPrivate,
		signPublic: rawPublic(createPublicKey(signPrivate)),
		agreePrivate,
		agreePublic: rawPublic(createPublicKey(agreePrivate)),
	};
}

export function ephemeralAgreement(random: Random): { privateKey: KeyObject; publicKey: Buffer } {
	const privateKey = privateKeyFromSeed(random.bytes(KEY_BYTES), 'X25519');
	return { privateKey, publicKey: rawPublic(createPublicKey(privateKey)) };
}

function rawPublic(key: KeyObject): Buffer {
	const jwk = key.export({ format: 'jwk' });
	if (typeof jwk.x !== 'string') throw new Error('not an OKP public key');
	return Buffer.from(jwk.x, 'base64url');
}

function publicFromRaw(raw: Buffer, curve: 'Ed25519' | 'X25519'): KeyObject {
	return createPublicKey({ key: { kty: 'OKP', crv: curve, x: raw.toString('base64url') }, format: 'jwk' });
}

export function signBytes(privateKey: KeyObject, data: Buffer): Buffer {
	return edSign(null, data, privateKey);
}

/** Never throws: a malformed key or signature is simply not valid. */
export function verifyBytes(publicRaw: Buffer, data: Buffer, signature: Buffer): boolean {
	try {
		return publicRaw.length === KEY_BYTES && edVerify(null, data, publicFromRaw(publicRaw, 'Ed25519'), signature);
	} catch {
		return false;
	}
}

/** X25519 shared secret; null for a public key that is not a valid point. */
export function agree(privateKey: KeyObject, theirPublic: Buffer): Buffer | null {
	try {
		if (theirPublic.length !== KEY_BYTES) return null;
		return diffieHellman({ privateKey, publicKey: publicFromRaw(theirPublic, 'X25519') });
	} catch {
		return null;
	}
}

export function deriveKey(secret: Buffer, salt: Buffer, info: string): Buffer {
	return Buffer.from(hkdfSync('sha256', secret, salt, info, KEY_BYTES));
}

export function randomKey(random: Random): Buffer {
	return random.bytes(KEY_BYTES);
}

/**
 * AES-256-GCM; `aad` is authenticated, not encrypted. The nonce must never repeat under
 * one key: 12 random bytes, or built from a counter the caller keeps.
 */
export function seal(key: Buffer, plaintext: Buffer, aad: Buffer, nonce: Buffer): { nonce: Buffer; sealed: Buffer } {
	const cipher = createCipheriv('aes-256-gcm', key, nonce);
	cipher.setAAD(aad);
	const sealed = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
	return { nonce, sealed };
}

/** The plaintext, or null when the key, nonce, aad or ciphertext do not match. Never throws. */
export function open(key: Buffer, nonce: Buffer, sealed: Buffer, aad: Buffer): Buffer | null {
	if (sealed.length < TAG_BYTES || nonce.length !== NONCE_BYTES) return null;
	try {
		const decipher = createDecipheriv('aes-256-gcm', key, nonce);
		decipher.setAAD(aad);
		decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
		return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES)), decipher.final()]);
	} catch {
		return null;
	}
}
