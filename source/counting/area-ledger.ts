import type { AreaId, SensorId } from '../model/ids.js';
import { defaultGranter } from './lease.js';
import { checkRow, type RowProblem, type RowView } from './row-checks.js';
import { EMPTY_ROW, mergeRows, rowCovers, sumCounts, totalGiven, type Row } from './row.js';

/** A gen-0 assignment: computed from the layout alone, so nobody signs it. */
export interface DefaultAssignment {
	readonly gen: 0;
	readonly granter: SensorId;
	readonly formerTaken: 0;
	readonly granterTaken: 0;
	readonly floor: 0;
	readonly sig: null;
}

export type AssignmentView = Row['assignment'] | DefaultAssignment;

/** What became of a row offered to a replica. */
export type Offer =
	/** Counted, with any rows of others that it made checkable. */
	| { readonly kind: 'accepted'; readonly alsoAccepted: readonly SensorId[] }
	/** Not counted yet: `problem` is why; it is checked again as other rows arrive. It may have made others' rows checkable all the same. */
	| { readonly kind: 'pending'; readonly problem: RowProblem; readonly alsoAccepted: readonly SensorId[] }
	/** Nothing new: the replica already holds all of it. */
	| { readonly kind: 'stale' };

/**
 * One replica of an area's bounded counter (Balegas et al., 2015): the rows of every
 * sensor of the area, from which occupancy and each sensor's permits are derived.
 *
 * The invariant that keeps the area under capacity: the permits of all sensors add up to
 * capacity minus occupancy, and a sensor only ever spends its own permits (it admits only
 * when its own count is ≥ 1, and only it writes its row). So occupancy ≤ capacity holds
 * whatever order rows arrive in, however stale a replica is — provided no row claims
 * what its owner could not have done. So rows from others are *offered*: counted only if
 * they pass `checkRow` against the rows already counted, else held back as pending and
 * checked again whenever another row arrives (design.md §7).
 *
 * `P` is whatever proof travels with a row (its owner's signature): kept with the newest
 * version of each owner's row so that the replica can pass it on.
 */
export class AreaLedger<P = unknown> implements RowView {
	readonly #rows = new Map<SensorId, Row>();
	readonly #pending = new Map<SensorId, { readonly row: Row; readonly problem: RowProblem }>();
	/** The proof of the counted version of each owner's row, and of a newer one held back. */
	readonly #proofs = new Map<SensorId, P>();
	readonly #pendingProofs = new Map<SensorId, P>();
	readonly #sensors: ReadonlySet<SensorId>;
	readonly ring: ReadonlySet<SensorId>;
	/** Each admitting sensor's generation-0 assignment, from the layout alone: computed once, read per admission. */
	readonly #defaults = new Map<SensorId, DefaultAssignment>();

	constructor(
		readonly area: AreaId,
		readonly capacity: number,
		/** Every sensor of the area: the only ones whose rows are accepted. */
		readonly sensors: readonly SensorId[],
		/** What each admitting sensor started with; absent means zero. */
		readonly initial: ReadonlyMap<SensorId, number>,
		/** The admitting sensors in layout order: each one's default granter is the next. */
		readonly ringOrder: readonly SensorId[] = [],
	) {
		this.#sensors = new Set(sensors);
		this.ring = new Set(ringOrder);
		for (const sensor of ringOrder) {
			const granter = defaultGranter(ringOrder, sensor);
			if (granter !== null) this.#defaults.set(sensor, { gen: 0, granter, formerTaken: 0, granterTaken: 0, floor: 0, sig: null });
		}
	}

	/** The row counted for `sensor` (empty until one passes the checks). */
	row(sensor: SensorId): Row {
		return this.#rows.get(sensor) ?? EMPTY_ROW;
	}

	rows(): IterableIterator<[SensorId, Row]> {
		return this.#rows.entries();
	}

	hasSensor(sensor: SensorId): boolean {
		return this.#sensors.has(sensor);
	}

	/** A row held back, and why; undefined when the sensor has none. */
	pending(sensor: SensorId): { readonly row: Row; readonly problem: RowProblem } | undefined {
		return this.#pending.get(sensor);
	}

	pendingOwners(): IterableIterator<SensorId> {
		return this.#pending.keys();
	}

	/** The proof of the counted version of `sensor`'s row. */
	proof(sensor: SensorId): P | undefined {
		return this.#proofs.get(sensor);
	}

	/** The proofs worth passing on: of the counted version, and of a newer one held back (its owner wants its newest). */
	proofs(sensor: SensorId): P[] {
		const counted = this.#proofs.get(sensor);
		const newer = this.#pendingProofs.get(sensor);
		return [...(counted === undefined ? [] : [counted]), ...(newer === undefined || newer === counted ? [] : [newer])];
	}

	/** The newest version held of `sensor`'s row, counted or not. */
	newest(sensor: SensorId): Row {
		return this.#pending.get(sensor)?.row ?? this.row(sensor);
	}

	/**
	 * Offers a version of `owner`'s row as received (directly from it, or relayed with its
	 * signature). Joined to the newest held, it is counted if it passes the checks. If not,
	 * it waits — and the newest version that does pass (this one joined to the counted one:
	 * an older, honest version arriving after a lie) is counted meanwhile. A version that
	 * neither contains nor is contained in the newest held is the owner telling replicas
	 * different things: refused outright.
	 */
	offer(owner: SensorId, incoming: Row, proof?: P): Offer {
		const counted = this.row(owner);
		const newest = this.newest(owner);
		if (!rowCovers(newest, incoming) && !rowCovers(incoming, newest)) {
			// Honest rows only grow: a version that does not contain the last is a lie to someone.
			return { kind: 'pending', problem: 'equivocation', alsoAccepted: [] };
		}
		if (rowCovers(counted, incoming)) {
			// Nothing new, but what made a held row wait may have gone since (our own row changed).
			const alsoAccepted = this.#pending.size > 0 ? this.#acceptWhatBecameCheckable() : [];
			return alsoAccepted.length > 0 ? { kind: 'accepted', alsoAccepted } : { kind: 'stale' };
		}
		const joined = mergeRows(newest, incoming);
		const problem = this.#check(owner, joined);
		if (problem === null) {
			this.#count(owner, joined, rowCovers(incoming, newest) ? proof : undefined);
			return { kind: 'accepted', alsoAccepted: this.#acceptWhatBecameCheckable() };
		}
		if (rowCovers(incoming, newest) && proof !== undefined) this.#pendingProofs.set(owner, proof);
		this.#pending.set(owner, { row: joined, problem });
		// The newest is held back; an older honest version that arrives late may still count.
		const older = mergeRows(counted, incoming);
		if (older !== counted && !rowCovers(older, joined) && this.#check(owner, older) === null) {
			this.#rows.set(owner, older);
			if (proof !== undefined) this.#proofs.set(owner, proof);
			return { kind: 'accepted', alsoAccepted: this.#acceptWhatBecameCheckable() };
		}
		// Alone it fails; with the others held back it may not (siblings that lent to each other).
		if (this.#pending.size > 1) {
			const together = this.#acceptTogether();
			if (together.includes(owner)) return { kind: 'accepted', alsoAccepted: together.filter((other) => other !== owner) };
			return { kind: 'pending', problem, alsoAccepted: together };
		}
		return { kind: 'pending', problem, alsoAccepted: [] };
	}

	/** Checks the held rows again (our own row may have changed what they depend on); returns the owners now counted. */
	recheck(): SensorId[] {
		return this.#pending.size > 0 ? this.#acceptWhatBecameCheckable() : [];
	}

	/**
	 * Replaces the owner's own row: only the owner calls this, always with a grown row. A
	 * sensor does not check its own decisions against its own replica: it made them there.
	 */
	write(owner: SensorId, row: Row, proof?: P): void {
		this.#rows.set(owner, row);
		this.#pending.delete(owner);
		if (proof !== undefined) this.#proofs.set(owner, proof);
	}

	/** Counts `row` for `owner`: anything held back of it is counted now, with the newest proof. */
	#count(owner: SensorId, row: Row, proof?: P): void {
		this.#rows.set(owner, row);
		this.#pending.delete(owner);
		const newest = proof ?? this.#pendingProofs.get(owner);
		if (newest !== undefined) this.#proofs.set(owner, newest);
		this.#pendingProofs.delete(owner);
	}

	/** Keeps `proof` as that of the newest version of `owner`'s row (a sensor's own, once it signed it). */
	prove(owner: SensorId, proof: P): void {
		this.#proofs.set(owner, proof);
	}

	/** Joins a version of the owner's own row found elsewhere (its log, a replica): it can only grow. Returns whether it did. */
	restore(owner: SensorId, row: Row, proof?: P): boolean {
		const current = this.row(owner);
		if (rowCovers(current, row)) return false;
		this.write(owner, mergeRows(current, row), proof);
		return true;
	}

	/**
	 * Pending rows that the last change made checkable. First one at a time, as long as
	 * any passes; then, for rows that only make sense together (two siblings that gave
	 * each other permits back and forth), all at once, dropping those that still fail.
	 */
	#acceptWhatBecameCheckable(): SensorId[] {
		const accepted: SensorId[] = [];
		let progress = true;
		while (progress && this.#pending.size > 0) {
			progress = false;
			for (const [owner, { row }] of this.#pending) {
				if (this.#check(owner, row) !== null) continue;
				this.#count(owner, row);
				accepted.push(owner);
				progress = true;
			}
		}
		if (this.#pending.size > 1) accepted.push(...this.#acceptTogether());
		return accepted;
	}

	#acceptTogether(): SensorId[] {
		const before = new Map([...this.#pending.keys()].map((owner) => [owner, this.row(owner)]));
		const trying = new Set(this.#pending.keys());
		while (trying.size > 1) {
			for (const owner of trying) this.#rows.set(owner, this.#pending.get(owner)!.row);
			const failing = [...trying].filter((owner) => checkRow(this, owner, this.#pending.get(owner)!.row, before.get(owner)!) !== null);
			if (failing.length === 0) break;
			for (const owner of failing) {
				trying.delete(owner);
				this.#rows.set(owner, before.get(owner)!);
			}
		}
		if (trying.size <= 1) {
			for (const [owner, row] of before) this.#rows.set(owner, row);
			return [];
		}
		for (const owner of trying) this.#count(owner, this.#pending.get(owner)!.row);
		return [...trying];
	}

	/** Checks `candidate` as `owner`'s row with it in place, then puts the counted one back. */
	#check(owner: SensorId, candidate: Row): RowProblem | null {
		if (!this.#sensors.has(owner)) return 'staff-sensor-counts-visitors';
		const previous = this.row(owner);
		this.#rows.set(owner, candidate);
		try {
			return checkRow(this, owner, candidate, previous);
		} finally {
			this.#rows.set(owner, previous);
		}
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

	inflowOf(sensor: SensorId): number {
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
	assignmentOf(sensor: SensorId): AssignmentView {
		return this.row(sensor).assignment ?? this.#defaults.get(sensor) ?? null;
	}

	/** How far `sensor`'s outflow may go: unbounded with no granter, or granting itself (the last one alive). */
	capOf(sensor: SensorId): number {
		const assignment = this.assignmentOf(sensor);
		if (assignment === null || assignment.granter === sensor) return Infinity;
		const lease = this.row(assignment.granter).leases.get(sensor);
		return Math.max(assignment.floor, lease?.gen === assignment.gen ? lease.cap : 0);
	}

	/**
	 * All its granters took from `sensor`: the current one's takes (at least what it took
	 * before this generation, as the tracker said) and the others' (at least what the
	 * tracker said): the tracker's figures hold even before their rows arrive.
	 */
	takenFrom(sensor: SensorId): number {
		const assignment = this.assignmentOf(sensor);
		const current = assignment?.granter ?? null;
		const byCurrent = current === null ? 0 : this.row(current).taken.get(sensor) ?? 0;
		return Math.max(byCurrent, assignment?.granterTaken ?? 0) + Math.max(this.#takenByOthers(sensor, current), assignment?.formerTaken ?? 0);
	}

	takenByFormer(sensor: SensorId): number {
		return this.#takenByOthers(sensor, this.assignmentOf(sensor)?.granter ?? null);
	}

	/**
	 * The inflow the current granter may account for in generation `gen`: `sensor`'s
	 * inflow less everything taken before the generation began (by the others, and by
	 * `granter` itself in earlier ones). Null unless this replica knows assignment `gen`.
	 */
	basisFor(sensor: SensorId, granter: SensorId, gen: number): number | null {
		const assignment = this.assignmentOf(sensor);
		if (assignment === null || assignment.gen !== gen) return null;
		return this.inflowOf(sensor) - Math.max(this.#takenByOthers(sensor, granter), assignment.formerTaken) - assignment.granterTaken;
	}

	#takenByOthers(sensor: SensorId, granter: SensorId | null): number {
		let sum = 0;
		for (const [owner, row] of this.#rows) if (owner !== granter) sum += row.taken.get(sensor) ?? 0;
		return sum;
	}

	/** Room left in the area as far as this replica knows. */
	room(): number {
		return this.capacity - this.occupancy();
	}
}
