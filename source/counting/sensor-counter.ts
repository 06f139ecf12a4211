import type { AreaId, SensorId } from '../model/ids.js';
import type { MallLayout, Move, Sensor } from '../model/mall.js';
import { AreaLedger, type Offer } from './area-ledger.js';
import { admittingSensors } from './admitting-sensors.js';
import { initialPermits } from './initial-permits.js';
import { grantLease, reclaimTarget, type LeaseRequest } from './lease.js';
import { incremented, withGift, withLease, withTaken, type Assignment, type CounterField, type Row } from './row.js';

export type Direction = 'enter' | 'exit';
export type Person = 'visitor' | 'staff';

/** Why a move was refused. A code that scripts can match, with the area it concerns. */
export type RefusalReason =
	/** The area is at capacity as far as this sensor knows. */
	| 'full'
	/** The area has room, but at other sensors, and none was lent within the bounded wait. */
	| 'no-permit'
	/** The area has room and this sensor holds permits, but its lease is spent and its granter gave no more within the bounded wait. */
	| 'cut-off'
	/** The peer is shutting down and decides nothing more. */
	| 'stopped';

export type Attempt =
	| { readonly kind: 'admitted'; readonly delta: ReadonlyMap<AreaId, 1 | -1> }
	| { readonly kind: 'refused'; readonly reason: RefusalReason; readonly area: AreaId | null }
	/**
	 * Room exists, but this sensor cannot spend it yet: in `areas` it holds no permit
	 * (borrow one), in `leases` its budget is spent (ask its granter). Then try again.
	 */
	| { readonly kind: 'short'; readonly areas: readonly AreaId[]; readonly leases: readonly AreaId[] };

/** A lease request and whom to send it to. */
export interface LeaseAsk {
	readonly granter: SensorId;
	readonly request: LeaseRequest;
}

/**
 * Everything one sensor knows and decides, with no socket or timer in sight: its replica
 * of every area it counts, its admission rule and its permit gifts. The peer shell feeds
 * it rows from the network and sends out what changed.
 */
export class SensorCounter<P = unknown> {
	readonly sensor: Sensor;
	readonly #ledgers = new Map<AreaId, AreaLedger<P>>();
	/** Areas whose own row changed since the shell last took them, to send out. */
	readonly #dirty = new Set<AreaId>();
	/** Areas where this sensor spends nothing until the tracker confirms who grants its lease. */
	readonly #frozen = new Set<AreaId>();
	/** Areas where its outflow may not pass a bound until the tracker has moved its lease. */
	readonly #limits = new Map<AreaId, number>();

	constructor(readonly layout: MallLayout, readonly self: SensorId) {
		const sensor = layout.sensors.get(self);
		if (!sensor) throw new Error(`sensor ${self} is not in the mall layout`);
		this.sensor = sensor;
		for (const area of sensor.areas) this.#ledgers.set(area, ledgerFor<P>(layout, area));
	}

	get areas(): IterableIterator<AreaId> {
		return this.#ledgers.keys();
	}

	ledger(area: AreaId): AreaLedger<P> | undefined {
		return this.#ledgers.get(area);
	}

	ownRow(area: AreaId): Row {
		return this.#ledger(area).row(this.self);
	}

	permits(area: AreaId): number {
		return this.#ledger(area).permitsOf(this.self);
	}

	/** Permits this sensor may spend now in `area`: held, and within its lease. */
	spendable(area: AreaId): number {
		return Math.min(this.permits(area), this.budget(area));
	}

	/** How much of its lease is left in `area` (Infinity when it needs none). */
	budget(area: AreaId): number {
		if (this.#frozen.has(area)) return 0;
		const ledger = this.#ledger(area);
		const cap = Math.min(ledger.capOf(this.self), this.#limits.get(area) ?? Infinity);
		return cap - ledger.outflowOf(this.self);
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
		// Leaving needs nothing: a person who walks out is out. This replica may not have
		// heard of the entry yet (its own view then dips below zero until it does); refusing
		// would leave a phantom inside for the rest of the day. Each sensor's permits come only
		// from its own exits and gifts, so counting an exit frees exactly the place it left.
		if (who === 'visitor') {
			const short: AreaId[] = [];
			const leases: AreaId[] = [];
			for (const area of move.enters) {
				const ledger = this.#ledger(area);
				// Room first: a permit is never a reason to admit into an area this replica sees full.
				if (ledger.room() <= 0) return { kind: 'refused', reason: 'full', area };
				const held = ledger.permitsOf(this.self) >= 1;
				const budgeted = this.budget(area) >= 1;
				if (held && budgeted) continue;
				if (!held) short.push(area);
				if (!budgeted) leases.push(area);
			}
			if (short.length > 0 || leases.length > 0) return { kind: 'short', areas: short, leases };
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

	/**
	 * Hands `count` of this sensor's permits in `area` to another sensor that may hold
	 * permits there. Never to a staff entrance: it may not hold any (its row is refused if
	 * it gives or spends one), so a permit given to it would be lost to visitors for good.
	 */
	give(area: AreaId, to: SensorId, count: number): number {
		const ledger = this.#ledger(area);
		if (to === this.self || !ledger.ring.has(to)) return 0;
		const granted = Math.min(count, this.spendable(area));
		if (granted <= 0) return 0;
		ledger.write(this.self, withGift(ledger.row(this.self), to, granted));
		this.#dirty.add(area);
		return granted;
	}

	/**
	 * Offers another sensor's row to our replica of `area` (AreaLedger.offer: counted only
	 * if its owner could have produced it). Rows claiming to be this sensor's own, or of a
	 * sensor that does not count the area, are refused: null.
	 */
	offer(area: AreaId, owner: SensorId, row: Row, proof?: P): Offer | null {
		const ledger = this.#ledgers.get(area);
		if (!ledger || owner === this.self || !ledger.hasSensor(owner)) return null;
		return ledger.offer(owner, row, proof);
	}

	/**
	 * Takes back this sensor's own row from its log or from a replica that held it while
	 * the sensor was down. Joined by maximum: the row can only grow. Returns whether it did.
	 */
	restoreOwn(area: AreaId, row: Row): boolean {
		if (!this.#ledgers.get(area)?.restore(this.self, row)) return false;
		this.#dirty.add(area);
		return true;
	}

	/**
	 * What to ask this sensor's granter in `area` so that its budget reaches `want` beyond
	 * its outflow; null when it needs no lease there (it admits alone, or grants itself).
	 */
	leaseAsk(area: AreaId, want: number): LeaseAsk | null {
		const ledger = this.#ledger(area);
		const assignment = ledger.assignmentOf(this.self);
		if (assignment === null || assignment.granter === this.self) return null;
		return { granter: assignment.granter, request: { gen: assignment.gen, outflow: ledger.outflowOf(this.self), want, floor: assignment.floor } };
	}

	/** As `holder`'s granter: raises its lease for `request`. Returns whether our row changed. */
	grant(area: AreaId, holder: SensorId, request: LeaseRequest): boolean {
		const ledger = this.#ledgers.get(area);
		if (!ledger || holder === this.self || !ledger.hasSensor(holder)) return false;
		const row = ledger.row(this.self);
		const current = row.leases.get(holder);
		const tookBefore = (row.taken.get(holder) ?? 0) > 0;
		const next = grantLease(current, request, tookBefore ? ledger.inflowOf(holder) - ledger.takenFrom(holder) : Infinity);
		if (current && next.gen === current.gen && next.cap === current.cap) return false;
		ledger.write(this.self, withLease(row, holder, next));
		this.#dirty.add(area);
		return true;
	}

	/**
	 * As `holder`'s granter: the total we may have taken from it in `area`, if more than
	 * we took so far, and the assignment generation that entitles us (the tracker checks it).
	 */
	reclaimable(area: AreaId, holder: SensorId): { readonly gen: number; readonly total: number } | null {
		const ledger = this.#ledgers.get(area);
		if (!ledger || holder === this.self) return null;
		const row = ledger.row(this.self);
		const lease = row.leases.get(holder);
		const assignment = ledger.assignmentOf(holder);
		let target: { gen: number; total: number } | null = null;
		if (lease && lease.gen > (assignment?.gen ?? -1)) {
			// We granted in a generation the holder's rows have not shown us yet: nothing
			// can be counted against it until they do (nor could any replica check a take).
			return null;
		} else if (assignment !== null && assignment.granter === this.self) {
			target = { gen: assignment.gen, total: assignment.granterTaken + reclaimTarget(lease, assignment.gen, assignment.floor, ledger.basisFor(holder, this.self, assignment.gen)) };
		}
		if (target === null || target.total <= (row.taken.get(holder) ?? 0)) return null;
		return target;
	}

	/** Records that the tracker let us take `total` (cumulative) from `holder` in `area`. */
	recordTake(area: AreaId, holder: SensorId, total: number): void {
		const ledger = this.#ledger(area);
		ledger.write(this.self, withTaken(ledger.row(this.self), holder, total));
		this.#dirty.add(area);
	}

	/** Takes a new assignment of our granter from the tracker (signed by it: every replica checks). */
	assign(area: AreaId, assignment: Assignment): void {
		const ledger = this.#ledger(area);
		const row = ledger.row(this.self);
		if (row.assignment !== null && row.assignment.gen >= assignment.gen) return;
		ledger.write(this.self, { ...row, assignment });
		this.#dirty.add(area);
	}

	/**
	 * Holds this sensor's outflow in `area` at `bound` (null: no longer) while the tracker
	 * moves its lease: the bound is the floor it told the tracker, where the next granter starts.
	 */
	limit(area: AreaId, bound: number | null): void {
		if (bound === null) this.#limits.delete(area);
		else this.#limits.set(area, bound);
	}

	/** Stops or resumes spending in `area` (at start, until the tracker confirms who grants its lease). */
	freeze(area: AreaId, frozen: boolean): void {
		if (frozen) this.#frozen.add(area);
		else this.#frozen.delete(area);
	}

	isFrozen(area: AreaId): boolean {
		return this.#frozen.has(area);
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

	#ledger(area: AreaId): AreaLedger<P> {
		const ledger = this.#ledgers.get(area);
		if (!ledger) throw new Error(`sensor ${this.self} does not count area ${area}`);
		return ledger;
	}
}

/** A fresh replica of an area, as every member builds it from the layout. */
export function ledgerFor<P = unknown>(layout: MallLayout, area: AreaId): AreaLedger<P> {
	const info = layout.areas.get(area);
	if (!info) throw new Error(`area ${area} is not in the mall layout`);
	const sensors = layout.sensorsOf.get(area) ?? [];
	const ring = admittingSensors(layout, area);
	return new AreaLedger<P>(area, info.capacity, sensors, initialPermits(info.capacity, ring), ring);
}
