/** Samples kept for the saved-datagrams chart: one a second, the last five minutes. */
const HISTORY = 300;

/** The Saved pane's figures from a sender's counters; the chart samples `saved` once a second. */
export function savedFigures(counters: { readonly sent: number; readonly flood: number }, history: RateHistory, now: number) {
	const saved = counters.flood - counters.sent;
	return { sent: counters.sent, flood: counters.flood, saved, percent: counters.flood === 0 ? 0 : (100 * saved) / counters.flood, history: history.sample(saved, now) };
}

/**
 * Turns a growing total into a per-second series for the chart. The series is a new array
 * only when a sample is taken, so the console redraws the chart once a second, not on
 * every refresh.
 */
export class RateHistory {
	#values: readonly number[] = [];
	#lastTotal: number | null = null;
	#lastSample = -Infinity;

	/** Records `total` if a second has passed since the last sample; returns the series. */
	sample(total: number, now: number): readonly number[] {
		if (now - this.#lastSample >= 1000) {
			if (this.#lastTotal !== null) this.#values = [...this.#values, Math.max(0, total - this.#lastTotal)].slice(-HISTORY);
			this.#lastTotal = total;
			this.#lastSample = now;
		}
		return this.#values;
	}
}
