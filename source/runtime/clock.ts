/**
 * Time, injected: the core never reads the system clock or sets a timer itself, so
 * tests can drive it.
 */
export interface Clock {
	/** Milliseconds on a monotonic scale. */
	now(): number;
	setTimeout(callback: () => void, ms: number): Cancel;
	setInterval(callback: () => void, ms: number): Cancel;
}

export type Cancel = () => void;

/** Resolves after `ms` on `clock`. */
export function wait(clock: Clock, ms: number): Promise<void> {
	return new Promise((resolve) => clock.setTimeout(resolve, ms));
}

export const systemClock: Clock = {
	now: () => performance.now(),
	setTimeout(callback, ms) {
		const timer = setTimeout(callback, ms);
		return () => clearTimeout(timer);
	},
	setInterval(callback, ms) {
		const timer = setInterval(callback, ms);
		return () => clearInterval(timer);
	},
};
