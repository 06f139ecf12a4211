import test from 'ava';
import { FIRST_BACKOFF_MS, FREE_ATTEMPTS, LoginThrottle } from '../source/security/login-throttle.js';

test('lets the first few failed logins through, then slows down', (t) => {
	const throttle = new LoginThrottle();
	for (let n = 0; n < FREE_ATTEMPTS; n++) {
		t.true(throttle.check(['user:x'], 0).allowed);
		throttle.fail(['user:x'], 0);
	}
	t.deepEqual(throttle.check(['user:x'], 0), { allowed: false, retryAfterMs: FIRST_BACKOFF_MS });
	t.true(throttle.check(['user:x'], FIRST_BACKOFF_MS).allowed);
});

test('the wait doubles with each further failure', (t) => {
	const throttle = new LoginThrottle();
	for (let n = 0; n < FREE_ATTEMPTS + 2; n++) throttle.fail(['host:h'], 0);
	t.deepEqual(throttle.check(['host:h'], 0), { allowed: false, retryAfterMs: FIRST_BACKOFF_MS * 4 });
});

test('a success clears the record', (t) => {
	const throttle = new LoginThrottle();
	for (let n = 0; n < FREE_ATTEMPTS + 2; n++) throttle.fail(['user:x'], 0);
	throttle.succeed(['user:x']);
	t.true(throttle.check(['user:x'], 0).allowed);
});
