/** Failed logins allowed before attempts are slowed down. */
export const FREE_ATTEMPTS = 3;
/** The wait after the first slowed attempt; it doubles with each further failure. */
export const FIRST_BACKOFF_MS = 500;
/** Backoff never exceeds this, so a typo never locks an operator out for long. */
export const MAX_BACKOFF_MS = 60_000;

export type ThrottleVerdict = { readonly allowed: true } | { readonly allowed: false; readonly retryAfterMs: number };

/**
 * Slows repeated bad logins (design.md §6), per user and per source host, so neither
 * guessing one account's password nor spraying many accounts from one host is cheap.
 * Pure: time is passed in.
 */
export class LoginThrottle {
	readonly #failures = new Map<string, { count: number; last: number }>();

	check(keys: readonly string[], now: number): ThrottleVerdict {
		let wait = 0;
		for (const key of keys) {
			const entry = this.#failures.get(key);
			if (!entry || entry.count < FREE_ATTEMPTS) continue;
			const backoff = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** (entry.count - FREE_ATTEMPTS));
			wait = Math.max(wait, entry.last + backoff - now);
		}
		return wait > 0 ? { allowed: false, retryAfterMs: Math.ceil(wait) } : { allowed: true };
	}

	fail(keys: readonly string[], now: number): void {
		for (const key of keys) {
			const entry = this.#failures.get(key);
			this.#failures.set(key, { count: (entry?.count ?? 0) + 1, last: now });
		}
	}

	succeed(keys: readonly string[]): void {
		for (const key of keys) this.#failures.delete(key);
	}
}
