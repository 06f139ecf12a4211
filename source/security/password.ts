import { randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';
import type { PasswordHash } from '../model/mall.js';

/** scrypt's cost parameters: N (CPU and memory), r (block size), p (parallelism). */
export interface ScryptParams {
	readonly N: number;
	readonly r: number;
	readonly p: number;
}

/**
 * scrypt's interactive-login parameters (RFC 7914 §2; ~40 ms a hash on a laptop): slow
 * enough to make guessing from a stolen fixture expensive, fast enough for a mall's
 * sensors to log in together after a tracker restart.
 */
export const DEFAULT_SCRYPT: ScryptParams = { N: 16384, r: 8, p: 1 };

/** 16 bytes of salt: no two accounts share a hash even with the same password. */
export const SALT_BYTES = 16;
/** 32 bytes of derived key: as long as the keys it stands beside. */
export const HASH_BYTES = 32;

function derive(password: string, salt: Buffer, { N, r, p }: ScryptParams): Promise<Buffer> {
	return new Promise((resolve, reject) => {
		// scrypt needs 128·N·r bytes; node refuses above 32 MiB by default, so allow twice that.
		const maxmem = 256 * N * r + 1024 * 1024;
		// The async scrypt runs on libuv's pool: a burst of logins does not stall the event loop.
		scrypt(password, salt, HASH_BYTES, { N, r, p, maxmem }, (error, key) => (error ? reject(error) : resolve(key)));
	});
}

/** Hashes a password with a fresh random salt, for a fixture's accounts. */
export async function hashPassword(password: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<PasswordHash> {
	const salt = randomBytes(SALT_BYTES);
	const { N, r, p } = params;
	return { algorithm: 'scrypt', salt, hash: await derive(password, salt, params), N, r, p };
}

/** Whether `password` is the one `stored` was made from, in time that does not depend on where they differ. */
export async function verifyPassword(password: string, stored: PasswordHash): Promise<boolean> {
	const hash = await derive(password, stored.salt, stored);
	return hash.length === stored.hash.length && timingSafeEqual(hash, stored.hash);
}

/** The same check, at once: for the simulator, which must not wait on a thread pool. */
export function verifyPasswordSync(password: string, stored: PasswordHash): boolean {
	const { N, r, p } = stored;
	const hash = scryptSync(password, stored.salt, HASH_BYTES, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 });
	return hash.length === stored.hash.length && timingSafeEqual(hash, stored.hash);
}
