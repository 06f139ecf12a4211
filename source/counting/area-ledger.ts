import type { AreaId, SensorId } from '../model/ids.js';
import { defaultGranter } from './lease.js';
import { EMPTY_ROW, mergeRows, rowCovers, sumCounts, totalGiven, type Assignment, type Row } from './row.js';

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
	readonly #sensors: ReadonlySet<SensorId>;
	/** Each admitting sensor's generation-0 assignment, from the layout alone: computed once, read per admission. */
	readonly #defaults = new Map<SensorId, Assignment>();

	constructor(
		readonly area: AreaId,
		readonly capacity: number,
		/** Every sensor of the area: the only ones whose rows are accepted. */
		readonly sensors: readonly SensorId[],
		/** What each admitting sensor started with; absent means zero. */
		readonly initial: ReadonlyMap<SensorId, number>,
		/** The admitting sensors in layout order: each one's default granter is the next. */
		readonly ring: readonly SensorId[] = [],
	) {
		this.#sensors = new Set(sensors);
		for (const sensor of ring) {
			const granter = defaultGranter(ring, sensor);
			if (granter !== null) this.#defaults.set(sensor, { gen: 0, granter, formerTaken: 0, floor: 0 });
		}
	}

	row(sensor: SensorId): Row {
		return this.#rows.get(sensor) ?? EMPTY_ROW;
	}

	rows(): IterableIterator<[SensorId, Row]> {
		return this.#rows.entries();
	}

	hasSensor(sensor: SensorId): boolean {
		return this.#sensors.has(sensor);
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

	/**
	 * Permits `sensor` holds as far as this replica knows: what came in (its share, gifts,
	 * exits, what it took back as a granter) less what went out (entries, gifts) and what
	 * its granters took from it. Never more than it holds; the sensor itself may be ahead.
	 */
	permitsOf(sensor: SensorId): number {
		return this.inflowOf(sensor) - this.outflowOf(sensor) - this.takenFrom(sensor);
	}

	private inflowOf(sensor: SensorId): number {
		const own = this.row(sensor);
		let received = 0;
		for (const row of this.#rows.values()) received += row.given.get(sensor) ?? 0;
		return (this.initial.get(sensor) ?? 0) + received + own.exits + sumCounts(own.taken);
	}

	outflowOf(sensor: SensorId): number {
		const own = this.row(sensor);
		return own.entries + totalGiven(own);
	}

	/**
	 * Who grants `sensor`'s leases: the tracker's latest assignment as its row carries it,
	 * else the default. Null when nobody does: it is the area's only admitting sensor (or
	 * admits nowhere), so there is nobody to take its permits back.
	 */
	assignmentOf(sensor: SensorId): Assignment | null {
		return this.row(sensor).assignment ?? this.#defaults.get(sensor) ?? null;
	}

	/** How far `sensor`'s outflow may go: unbounded with no granter, or granting itself (the last one alive). */
	capOf(sensor: SensorId): number {
		const assignment = this.assignmentOf(sensor);
		if (assignment === null || assignment.granter === sensor) return Infinity;
		const lease = this.row(assignment.granter).leases.get(sensor);
		return Math.max(assignment.floor, lease?.gen === assignment.gen ? lease.cap : 0);
	}

	/** All its granters took from `sensor`: the current one's takes, and the former ones' (at least what the tracker said). */
	takenFrom(sensor: SensorId): number {
		const assignment = this.assignmentOf(sensor);
		const current = assignment?.granter ?? null;
		const byCurrent = current === null ? 0 : this.row(current).taken.get(sensor) ?? 0;
		return byCurrent + Math.max(this.takenByOthers(sensor, current), assignment?.formerTaken ?? 0);
	}

	/**
	 * The inflow a granter may account for: `sensor`'s inflow less what granters other
	 * than `granter` took. Null unless this replica knows `sensor`'s assignment `gen`.
	 */
	basisFor(sensor: SensorId, granter: SensorId, gen: number): number | null {
		const assignment = this.assignmentOf(sensor);
		if (assignment === null || assignment.gen !== gen) return null;
		return this.inflowOf(sensor) - Math.max(this.takenByOthers(sensor, granter), assignment.formerTaken);
	}

	private takenByOthers(sensor: SensorId, granter: SensorId | null): number {
		let sum = 0;
		for (const [owner, row] of this.#rows) if (owner !== granter) sum += row.taken.get(sensor) ?? 0;
		return sum;
	}

	/** Room left in the area as far as this replica knows. */
	room(): number {
		return this.capacity - this.occupancy();
	}
}
