import type { AreaRow } from './console-data.js';

/** Samples kept per area: one a second, the last two minutes. */
const SAMPLES = 120;

/**
 * The occupancy of the mall and of each floor over the last minutes, sampled once a
 * second, for the sparkline under each floor. Stores are many and small: their bars say enough.
 */
export class OccupancyHistory {
	/** Each series is replaced, never changed, when a sample is taken: rows between samples share it. */
	readonly #series = new Map<string, readonly number[]>();
	#lastSample = -Infinity;

	/** Takes a sample if a second has passed, and returns the rows with their history. */
	sample(areas: readonly AreaRow[], now: number): AreaRow[] {
		const due = now - this.#lastSample >= 1000;
		if (due) this.#lastSample = now;
		return areas.map((area) => {
			if (area.kind === 'store') return area;
			let series = this.#series.get(area.id) ?? [];
			if (due) {
				series = [...series, area.occupancy].slice(-SAMPLES);
				this.#series.set(area.id, series);
			}
			return { ...area, history: series };
		});
	}
}
