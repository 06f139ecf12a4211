import type { AreaId, SensorId } from '../model/ids.js';
import type { MallLayout, Move, Sensor } from '../model/mall.js';
import { AreaLedger } from './area-ledger.js';
import { admittingSensors } from './admitting-sensors.js';
import { initialPermits } from './initial-permits.js';
import { incremented, mergeRows, rowCovers, withGift, type CounterField, type Row } from './row.js';

export type Direction = 'enter' | 'exit';
export type Person = 'visitor' | 'staff';

/** Why a move was refused. A code that scripts can match, with the area it concerns. */
export type RefusalReason =
	/** The area is at capacity as far as this sensor knows. */
	| 'full'
	/** The area has room, but at other sensors, and none was lent within the bounded wait. */
	| 'no-permit'
	/** Nobody is known to be inside the area being left. */
	| 'empty'
	/** The peer is shutting down and decides nothing more. */
	| 'stopped';

export type Attempt =
	| { readonly kind: 'admitted'; readonly delta: ReadonlyMap<AreaId, 1 | -1> }
	| { readonly kind: 'refused'; readonly reason: RefusalReason; readonly area: AreaId | null }
	/** Room exists in these areas, but not at this sensor: borrow, then try again. */
	| { readonly kind: 'short'; readonly areas: readonly AreaId[] };

/**
 * Everything one sensor knows and decides, with no socket or timer in sight: its replica
 * of every area it counts, its admission rule and its permit gifts. The peer shell feeds
 * it rows from the network and sends out what changed.
 */
export class SensorCounter {
	readonly sensor: Sensor;
	readonly #ledgers = new Map<AreaId, AreaLedger>();
	/** Areas whose own row changed since the shell last took them, to send out. */
	readonly #dirty = new Set<AreaId>();

	constructor(readonly layout: MallLayout, readonly self: SensorId) {
		const sensor = layout.sensors.get(self);
		if (!sensor) throw new Error(`sensor ${self} is not in the mall layout`);
		this.sensor = sensor;
		for (const area of sensor.areas) this.#ledgers.set(area, ledgerFor(layout, area));
	}

	get areas(): IterableIterator<AreaId> {
		return this.#ledgers.keys();
	}

	ledger(area: AreaId): AreaLedger | undefined {
		return this.#ledgers.get(area);
	}

	ownRow(area: AreaId): Row {
		return this.#ledger(area).row(this.self);
	}

	permits(area: AreaId): number {
		return this.#ledger(area).permitsOf(this.self);
	}

	/**
	 * Decides a move through this sensor, and applies it if admitted. Visitors need a
	 * local permit in every area they enter; staff are counted apart and need none (a
	 * store's own staff must get in to a full store). Whoever passes a staff entrance is
	 * staff.
	 */
	attempt(direction: Direction, person: Person): Attempt {
		const move: Move = direction === 'enter' ? this.sensor.inward : this.sensor.outward;
		const who: Person = this.sensor.staffOnly ? 'staff' : person;
		for (const area of move.leaves) {
			const ledger = this.#ledger(area);
			const inside = who === 'staff' ? ledger.staff() : ledger.occupancy();
			if (inside <= 0) return { kind: 'refused', reason: 'empty', area };
		}
		if (who === 'visitor') {
			const short: AreaId[] = [];
			for (const area of move.enters) {
				const ledger = this.#ledger(area);
				if (ledger.permitsOf(this.self) >= 1) continue;
				if (ledger.room() <= 0) return { kind: 'refused', reason: 'full', area };
				short.push(area);
			}
			if (short.length > 0) return { kind: 'short', areas: short };
		}
		const delta = new Map<AreaId, 1 | -1>();
		for (const area of move.enters) {
			this.#bump(area, who === 'staff' ? 'staffEntries' : 'entries');
			delta.set(area, 1);
		}
		for (const area of move.leaves) {
			this.#bump(area, who === 'staff' ? 'staffExits' : 'exits');
			delta.set(area, -1);
		}
		return { kind: 'admitted', delta };
	}

	/** Records a refusal against the area that lacked room, so observers see it. */
	recordRefusal(area: AreaId): void {
		this.#bump(area, 'refused');
	}

	/** Hands `count` of this sensor's permits in `area` to another sensor of the area. */
	give(area: AreaId, to: SensorId, count: number): number {
		const ledger = this.#ledger(area);
		const granted = Math.min(count, ledger.permitsOf(this.self));
		if (granted <= 0 || to === this.self || !ledger.hasSensor(to)) return 0;
		ledger.write(this.self, withGift(ledger.row(this.self), to, granted));
		this.#dirty.add(area);
		return granted;
	}

	/** Merges another sensor's row. Rows claiming to be this sensor's own are ignored. */
	merge(area: AreaId, owner: SensorId, row: Row): boolean {
		const ledger = this.#ledgers.get(area);
		if (!ledger || owner === this.self || !ledger.hasSensor(owner)) return false;
		return ledger.merge(owner, row);
	}

	/**
	 * Takes back this sensor's own row from its log or from a replica that held it while
	 * the sensor was down. Merged by maximum: the row can only grow. Returns whether it did.
	 */
	restoreOwn(area: AreaId, row: Row): boolean {
		const ledger = this.#ledgers.get(area);
		if (!ledger) return false;
		const current = ledger.row(this.self);
		if (rowCovers(current, row)) return false;
		ledger.write(this.self, mergeRows(current, row));
		this.#dirty.add(area);
		return true;
	}

	/** The areas whose own row changed since the last call. */
	takeDirty(): AreaId[] {
		const areas = [...this.#dirty];
		this.#dirty.clear();
		return areas;
	}

	#bump(area: AreaId, field: CounterField): void {
		const ledger = this.#ledger(area);
		ledger.write(this.self, incremented(ledger.row(this.self), field));
		this.#dirty.add(area);
	}

	#ledger(area: AreaId): AreaLedger {
		const ledger = this.#ledgers.get(area);
		if (!ledger) throw new Error(`sensor ${this.self} does not count area ${area}`);
		return ledger;
	}
}

/** A fresh replica of an area, as every member builds it from the layout. */
export function ledgerFor(layout: MallLayout, area: AreaId): AreaLedger {
	const info = layout.areas.get(area);
	if (!info) throw new Error(`area ${area} is not in the mall layout`);
	const sensors = layout.sensorsOf.get(area) ?? [];
	return new AreaLedger(area, info.capacity, sensors, initialPermits(info.capacity, admittingSensors(layout, area)));
}
