import test from 'ava';
import { FIRST_BACKOFF_MS, FREE_ATTEMPTS, LoginThrottle } from '../source/security/login-throttle.js';

const user = [{ key: 'user:x', free: FREE_ATTEMPTS }];

test('lets the first few failed logins through, then slows down', (t) => {
	const throttle = new LoginThrottle();
	for (let n = 0; n < FREE_ATTEMPTS; n++) {
		t.true(throttle.begin(user, 0).allowed);
		throttle.fail(user, 0);
	}
	t.deepEqual(throttle.begin(user, 0), { allowed: false, retryAfterMs: FIRST_BACKOFF_MS });
	t.true(throttle.begin(user, FIRST_BACKOFF_MS).allowed);
});

test('the wait doubles with each further failure', (t) => {
	const throttle = new LoginThrottle();
	for (let n = 0; n < FREE_ATTEMPTS + 2; n++) {
		throttle.begin(user, 0);
		throttle.fail(user, 0);
	}
	t.deepEqual(throttle.begin(user, 0), { allowed: false, retryAfterMs: FIRST_BACKOFF_MS * 4 });
});

test('a success clears the record', (t) => {
	const throttle = new LoginThrottle();
	for (let n = 0; n < FREE_ATTEMPTS + 2; n++) {
		throttle.begin(user, 0);
		throttle.fail(user, 0);
	}
	throttle.succeed(user);
	t.true(throttle.begin(user, 0).allowed);
});

test('attempts are counted when they begin: a burst sent at once gets only the free ones checked', (t) => {
	const throttle = new LoginThrottle();
	const allowed = Array.from({ length: 300 }, () => throttle.begin(user, 0)).filter((verdict) => verdict.allowed).length;
	t.is(allowed, FREE_ATTEMPTS);
});

test('an attempt that was not checked after all gives its place back', (t) => {
	const throttle = new LoginThrottle();
	for (let n = 0; n < FREE_ATTEMPTS; n++) throttle.begin(user, 0);
	t.false(throttle.begin(user, 0).allowed);
	throttle.cancel(user);
	t.true(throttle.begin(user, 0).allowed);
});
