import type { Cancel, Clock } from '../runtime/clock.js';

interface Scheduled {
	readonly at: number;
	/** Order among events at the same time: the order they were scheduled in. */
	readonly seq: number;
	readonly fire: () => void;
	cancelled: boolean;
}

/** Lets every promise chain that is ready run, before the next event: a setImmediate comes after all microtasks. */
const settleMicrotasks = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Virtual time for the whole simulated network: one clock every role, disk and link
 * shares, and one queue of events ordered by time, then by the order they were
 * scheduled in. Nothing happens but what the queue says, so one seed gives one history.
 * After each event, every promise chain it started runs to its next wait (the record log
 * and the data directory are written with promises) before the next event fires.
 */
export class Scheduler implements Clock {
	#now = 0;
	#seq = 0;
	readonly #heap: Scheduled[] = [];
	/** Events fired so far: a measure of the work a run did. */
	fired = 0;
	#running = false;

	now(): number {
		return this.#now;
	}

	setTimeout(callback: () => void, ms: number): Cancel {
		const event = this.#schedule(this.#now + Math.max(0, ms), callback);
		return () => {
			event.cancelled = true;
		};
	}

	setInterval(callback: () => void, ms: number): Cancel {
		let cancelled = false;
		let current: Cancel = () => {};
		const every = Math.max(1, ms);
		const tick = (): void => {
			if (cancelled) return;
			current = this.setTimeout(tick, every);
			callback();
		};
		current = this.setTimeout(tick, every);
		return () => {
			cancelled = true;
			current();
		};
	}

	/** Runs events until `done()` holds (checked after each) or `limitMs` of virtual time pass; true if it held. */
	async runUntil(done: () => boolean, limitMs: number): Promise<boolean> {
		// Two loops draining one queue would interleave histories: wait on one promise (Promise.all) instead.
		if (this.#running) throw new Error('the scheduler is already running: settle one promise (Promise.all) instead of several at once');
		this.#running = true;
		try {
			const until = this.#now + limitMs;
			await settleMicrotasks();
			while (!done()) {
				const next = this.#next();
				if (next === null || next.at > until) {
					this.#now = Math.max(this.#now, until);
					return done();
				}
				this.#heap.shift();
				this.#fire(next);
				await settleMicrotasks();
			}
			return true;
		} finally {
			this.#running = false;
		}
	}

	/** Runs every event of the next `ms` of virtual time. */
	async runFor(ms: number): Promise<void> {
		await this.runUntil(() => false, ms);
	}

	/** Runs until `promise` settles, within `limitMs` of virtual time; rejects with `what` if it does not. */
	async settle<T>(promise: Promise<T>, limitMs: number, what = 'the awaited step'): Promise<T> {
		let settled = false;
		promise.then(() => (settled = true), () => (settled = true));
		if (!(await this.runUntil(() => settled, limitMs))) throw new Error(`${what} did not happen within ${limitMs} ms of virtual time`);
		return promise;
	}

	#schedule(at: number, fire: () => void): Scheduled {
		const event: Scheduled = { at, seq: this.#seq++, fire, cancelled: false };
		// A sorted array with binary insertion: queues stay small (hundreds), and it keeps the code plain.
		let low = 0;
		let high = this.#heap.length;
		while (low < high) {
			const middle = (low + high) >>> 1;
			const other = this.#heap[middle]!;
			if (other.at < at || (other.at === at && other.seq < event.seq)) low = middle + 1;
			else high = middle;
		}
		this.#heap.splice(low, 0, event);
		return event;
	}

	#next(): Scheduled | null {
		while (this.#heap.length > 0 && this.#heap[0]!.cancelled) this.#heap.shift();
		return this.#heap[0] ?? null;
	}

	#fire(event: Scheduled): void {
		this.#now = event.at;
		this.fired++;
		event.fire();
	}
}
