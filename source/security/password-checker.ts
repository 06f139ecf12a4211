import type { PasswordHash } from '../model/mall.js';
import { verifyPassword } from './password.js';

/**
 * Where the tracker's password checks run: scrypt costs ~40 ms, so it never runs inside
 * a core. The system one uses libuv's thread pool; the simulator's runs at once and
 * answers after a virtual delay, so that a seed replays exactly.
 */
export interface PasswordChecker {
	check(password: string, hash: PasswordHash, done: (matches: boolean) => void): void;
}

export const scryptChecker: PasswordChecker = {
	check(password, hash, done) {
		verifyPassword(password, hash).then(done, () => done(false));
	},
};
