import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import type { PasswordHash } from '../model/mall.js';

/**
 * scrypt's interactive-login parameters (~40 ms a hash on this machine): slow enough to
 * make guessing from a stolen fixture expensive, fast enough for a mall's sensors to log in.
 */
export const DEFAULT_SCRYPT = { N: 16384, r: 8, p: 1 } as const;
const SALT_BYTES = 16;
const HASH_BYTES = 32;

function derive(password: string, salt: Buffer, params: { N: number; r: number; p: number }): Promise<Buffer> {
	return new Promise((resolve, reject) => {
		// maxmem: scrypt needs 128·N·r bytes; leave room above it.
		scrypt(password, salt, HASH_BYTES, { ...params, maxmem: 256 * params.N * params.r + 1024 * 1024 }, (error, key) => (error ? reject(error) : resolve(key)));
	});
}

export async function hashPassword(password: string, params: { N: number; r: number; p: number } = DEFAULT_SCRYPT): Promise<PasswordHash> {
	const salt = randomBytes(SALT_BYTES);
	return { algorithm: 'scrypt', salt, hash: await derive(password, salt, params), ...params };
}

export async function verifyPassword(password: string, stored: PasswordHash): Promise<boolean> {
	const hash = await derive(password, stored.salt, stored);
	return hash.length === stored.hash.length && timingSafeEqual(hash, stored.hash);
}
