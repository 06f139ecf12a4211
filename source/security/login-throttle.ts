/** Failed logins allowed on a key before attempts on it are slowed down (a key with its own allowance says so). */
export const FREE_ATTEMPTS = 3;
/** The wait after the first slowed attempt; it doubles with each further failure. */
export const FIRST_BACKOFF_MS = 500;
/** Backoff never exceeds this, so a typo never locks an operator out for long. */
export const MAX_BACKOFF_MS = 60_000;
/** Records of keys idle this long are forgotten: the table cannot grow without bound. */
const FORGET_AFTER_MS = 10 * MAX_BACKOFF_MS;

/** One thing attempts are counted against, and how many may fail before it is slowed. */
export interface ThrottleKey {
	readonly key: string;
	readonly free: number;
}

export type ThrottleVerdict = { readonly allowed: true } | { readonly allowed: false; readonly retryAfterMs: number };

/**
 * Slows repeated bad logins (design.md §6). Attempts are counted when they *begin*, not
 * when their password check ends: an attempt in flight counts as a failure until it is
 * known to have succeeded, so three hundred guesses sent at once get three checks, not
 * three hundred. The tracker counts each attempt against the user at that host, the host
 * (spraying many users) and, more leniently, the user from anywhere (many hosts guessing
 * one user) — except from the host the user last logged in from, so that strangers
 * elsewhere cannot lock the real device out. A device that logged in before comes back
 * with its device key and is not counted here at all. Pure: time is passed in.
 */
export class LoginThrottle {
	readonly #records = new Map<string, { failures: number; inFlight: number; last: number }>();

	/** Whether an attempt on `keys` may be checked now; if so, it is counted as in flight. */
	begin(keys: readonly ThrottleKey[], now: number): ThrottleVerdict {
		this.#forgetIdle(now);
		let wait = 0;
		for (const { key, free } of keys) {
			const record = this.#records.get(key);
			if (!record) continue;
			const counted = record.failures + record.inFlight;
			if (counted < free) continue;
			// In flight only: wait for those checks to end before another.
			if (record.failures < free) {
				wait = Math.max(wait, FIRST_BACKOFF_MS);
				continue;
			}
			const backoff = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** (record.failures - free));
			wait = Math.max(wait, record.last + backoff - now, record.inFlight > 0 ? FIRST_BACKOFF_MS : 0);
		}
		if (wait > 0) return { allowed: false, retryAfterMs: Math.ceil(wait) };
		for (const { key } of keys) {
			const record = this.#records.get(key) ?? { failures: 0, inFlight: 0, last: now };
			record.inFlight++;
			record.last = Math.max(record.last, now);
			this.#records.set(key, record);
		}
		return { allowed: true };
	}

	/** The attempt begun on `keys` failed. */
	fail(keys: readonly ThrottleKey[], now: number): void {
		for (const { key } of keys) {
			const record = this.#records.get(key) ?? { failures: 0, inFlight: 1, last: now };
			record.inFlight = Math.max(0, record.inFlight - 1);
			record.failures++;
			record.last = now;
			this.#records.set(key, record);
		}
	}

	/** The attempt begun on `keys` succeeded: their record is cleared. */
	succeed(keys: readonly ThrottleKey[]): void {
		for (const { key } of keys) this.#records.delete(key);
	}

	/** The attempt begun on `keys` was not checked after all (the tracker was busy). */
	cancel(keys: readonly ThrottleKey[]): void {
		for (const { key } of keys) {
			const record = this.#records.get(key);
			if (record) record.inFlight = Math.max(0, record.inFlight - 1);
		}
	}

	#forgetIdle(now: number): void {
		if (this.#records.size < 1024) return;
		for (const [key, record] of this.#records) if (record.inFlight === 0 && now - record.last > FORGET_AFTER_MS) this.#records.delete(key);
	}
}
