import type { AreaId, SensorId } from '../model/ids.js';
import { EMPTY_ROW, mergeRows, rowCovers, totalGiven, type Row } from './row.js';

/**
 * One replica of an area's bounded counter (Balegas et al., 2015): the rows of every
 * sensor of the area, from which occupancy and each sensor's permits are derived.
 *
 * The invariant that keeps the area under capacity: the permits of all sensors add up to
 * capacity minus occupancy, and a sensor only ever spends its own permits (it admits only
 * when its own count is ≥ 1, and only it writes its row). So occupancy ≤ capacity holds
 * whatever order rows arrive in, however stale a replica is.
 */
export class AreaLedger {
	readonly #rows = new Map<SensorId, Row>();

	constructor(
		readonly area: AreaId,
		readonly capacity: number,
		/** Every sensor of the area: the only ones whose rows are accepted. */
		readonly sensors: readonly SensorId[],
		/** What each admitting sensor started with; absent means zero. */
		readonly initial: ReadonlyMap<SensorId, number>,
	) {}

	row(sensor: SensorId): Row {
		return this.#rows.get(sensor) ?? EMPTY_ROW;
	}

	rows(): IterableIterator<[SensorId, Row]> {
		return this.#rows.entries();
	}

	hasSensor(sensor: SensorId): boolean {
		return this.sensors.includes(sensor);
	}

	/** Merges a copy of `owner`'s row. Returns whether anything changed. */
	merge(owner: SensorId, incoming: Row): boolean {
		const current = this.row(owner);
		if (rowCovers(current, incoming)) return false;
		this.#rows.set(owner, mergeRows(current, incoming));
		return true;
	}

	/** Replaces the owner's own row: only the owner calls this, always with a grown row. */
	write(owner: SensorId, row: Row): void {
		this.#rows.set(owner, row);
	}

	occupancy(): number {
		let sum = 0;
		for (const row of this.#rows.values()) sum += row.entries - row.exits;
		return sum;
	}

	staff(): number {
		let sum = 0;
		for (const row of this.#rows.values()) sum += row.staffEntries - row.staffExits;
		return sum;
	}

	refused(): number {
		let sum = 0;
		for (const row of this.#rows.values()) sum += row.refused;
		return sum;
	}

	admitted(): number {
		let sum = 0;
		for (const row of this.#rows.values()) sum += row.entries;
		return sum;
	}

	/** Permits `sensor` holds as far as this replica knows (exact for the sensor's own replica). */
	permitsOf(sensor: SensorId): number {
		const own = this.row(sensor);
		let received = 0;
		for (const row of this.#rows.values()) received += row.given.get(sensor) ?? 0;
		return (this.initial.get(sensor) ?? 0) + received - totalGiven(own) - own.entries + own.exits;
	}

	/** Room left in the area as far as this replica knows. */
	room(): number {
		return this.capacity - this.occupancy();
	}
}
