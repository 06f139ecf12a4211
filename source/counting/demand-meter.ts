import type { SensorId } from '../model/ids.js';
import type { AreaLedger } from './area-ledger.js';

/**
 * Estimates where entries happen in one area: for each sensor, how many visitors it
 * admitted or refused over the last `windowMs`, read from the replicated rows. Refusals
 * count too: they are demand that went unmet, which is exactly where permits should go.
 */
export class DemandMeter {
	readonly #samples: { readonly at: number; readonly totals: ReadonlyMap<SensorId, number> }[] = [];

	constructor(readonly windowMs: number) {}

	/** Takes a sample of the ledger at time `now` (milliseconds). */
	sample(ledger: AreaLedger, now: number): void {
		// Before the first sample nothing is known: count from zero, so that entries made
		// before the meter started still show as demand for one window.
		if (this.#samples.length === 0) this.#samples.push({ at: now, totals: new Map() });
		const totals = new Map<SensorId, number>();
		for (const [sensor, row] of ledger.rows()) totals.set(sensor, row.entries + row.refused);
		this.#samples.push({ at: now, totals });
		while (this.#samples.length > 2 && this.#samples[1]!.at <= now - this.windowMs) this.#samples.shift();
	}

	/** Demand per sensor between the oldest sample in the window and the newest. */
	demand(): ReadonlyMap<SensorId, number> {
		const demand = new Map<SensorId, number>();
		const oldest = this.#samples[0];
		const newest = this.#samples.at(-1);
		if (!oldest || !newest) return demand;
		for (const [sensor, total] of newest.totals) {
			demand.set(sensor, total - (oldest.totals.get(sensor) ?? 0));
		}
		return demand;
	}
}
