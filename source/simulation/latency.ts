/** Percentiles of what a door took to decide, in ms. */
export interface LatencySummary {
	readonly p50: number;
	readonly p99: number;
	readonly max: number;
}

/**
 * Every decision's latency, kept whole: a demo tries at most a few hundred thousand moves,
 * so exact percentiles cost a few megabytes and one sort, and need no bucket boundaries.
 */
export class LatencyRecorder {
	#samples = new Float64Array(1024);
	#count = 0;

	record(ms: number): void {
		if (this.#count === this.#samples.length) {
			const grown = new Float64Array(this.#samples.length * 2);
			grown.set(this.#samples);
			this.#samples = grown;
		}
		this.#samples[this.#count++] = ms;
	}

	get count(): number {
		return this.#count;
	}

	/** Nearest-rank percentiles, rounded to 0.01 ms; zeros when nothing was recorded. */
	summary(): LatencySummary {
		if (this.#count === 0) return { p50: 0, p99: 0, max: 0 };
		const sorted = this.#samples.slice(0, this.#count).sort();
		const rank = (p: number): number => sorted[Math.min(this.#count - 1, Math.ceil((p / 100) * this.#count) - 1)]!;
		const round = (ms: number): number => Math.round(ms * 100) / 100;
		return { p50: round(rank(50)), p99: round(rank(99)), max: round(sorted[this.#count - 1]!) };
	}
}
