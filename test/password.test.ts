import test from 'ava';
import { DEFAULT_SCRYPT, hashPassword, verifyPassword } from '../source/security/password.js';

/** Cheap scrypt: these tests are about salts and comparisons, not about cost. */
const CHEAP = { N: 1024, r: 8, p: 1 };

test('the right password verifies', async (t) => {
	const stored = await hashPassword('amber-birch-cobalt-101', CHEAP);
	t.true(await verifyPassword('amber-birch-cobalt-101', stored));
});

test('a wrong password does not verify', async (t) => {
	const stored = await hashPassword('amber-birch-cobalt-101', CHEAP);
	t.false(await verifyPassword('amber-birch-cobalt-102', stored));
	t.false(await verifyPassword('', stored));
});

test('the same password hashes differently each time, by its salt', async (t) => {
	const [first, second] = await Promise.all([hashPassword('same', CHEAP), hashPassword('same', CHEAP)]);
	t.notDeepEqual(first.salt, second.salt);
	t.notDeepEqual(first.hash, second.hash);
	t.true(await verifyPassword('same', first));
	t.true(await verifyPassword('same', second));
});

test('hashes with a 16-byte salt, a 32-byte hash and the default cost unless told otherwise', async (t) => {
	const stored = await hashPassword('ops-pass');
	t.like(stored, { algorithm: 'scrypt', ...DEFAULT_SCRYPT });
	t.deepEqual([stored.salt.length, stored.hash.length], [16, 32]);
	t.true(await verifyPassword('ops-pass', stored));
});

test('verifies against the cost recorded with the hash, not the default', async (t) => {
	const stored = await hashPassword('secret', CHEAP);
	t.false(await verifyPassword('secret', { ...stored, N: 2048 }));
	t.true(await verifyPassword('secret', stored));
});
