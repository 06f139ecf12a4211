import type { SensorId } from '../model/ids.js';

/**
 * One sensor's contribution to one area's count. Only that sensor ever changes its row,
 * and every field only grows, so replicas merge by field-wise maximum: a lost, repeated
 * or late copy of a row can delay a count but never skew it (design.md §2).
 */
export interface Row {
	/** Visitors admitted into the area at this sensor. */
	readonly entries: number;
	/** Visitors who left the area through this sensor. */
	readonly exits: number;
	readonly staffEntries: number;
	readonly staffExits: number;
	/** Entries refused at this sensor for want of room in this area. */
	readonly refused: number;
	/** Permits this sensor has handed to each other sensor of the area, cumulative. */
	readonly given: ReadonlyMap<SensorId, number>;
	/** As a granter: permits this sensor took back from each holder declared dead, cumulative. */
	readonly taken: ReadonlyMap<SensorId, number>;
	/** As a granter: the spending budget it gave each holder (design.md §5, counting/lease.ts). */
	readonly leases: ReadonlyMap<SensorId, Lease>;
	/** As a holder: who grants its leases, when the tracker moved that away from the default. */
	readonly assignment: Assignment | null;
}

/**
 * A budget a granter gave a holder: in assignment `gen`, the holder's outflow (entries
 * plus permits given away) may reach `cap`, and no further. Above it, the granter may
 * take back what it can see the holder received, once the holder is declared dead.
 */
export interface Lease {
	readonly gen: number;
	readonly cap: number;
}

/**
 * Which sibling grants a holder's leases in one area. Generation 0 is the default (the
 * next admitting sensor in layout order) and is never written; the tracker makes each
 * later one, when the granter died. `formerTaken` is everything taken from the holder by
 * the other granters it had (final: they can take no more), `granterTaken` what this
 * granter itself took in generations before (a granter can come back), `floor` the
 * outflow the holder may already have reached. `sig` is the tracker's signature over the
 * rest (security/assignment-signature.ts): a holder cannot name its own granter.
 */
export interface Assignment {
	readonly gen: number;
	readonly granter: SensorId;
	readonly formerTaken: number;
	readonly granterTaken: number;
	readonly floor: number;
	readonly sig: string;
}

export const EMPTY_ROW: Row = {
	entries: 0,
	exits: 0,
	staffEntries: 0,
	staffExits: 0,
	refused: 0,
	given: new Map(),
	taken: new Map(),
	leases: new Map(),
	assignment: null,
};

export type CounterField = 'entries' | 'exits' | 'staffEntries' | 'staffExits' | 'refused';

/** The join of two versions of the same sensor's row: commutative, associative, idempotent. */
export function mergeRows(a: Row, b: Row): Row {
	const leases = new Map(a.leases);
	for (const [holder, lease] of b.leases) leases.set(holder, mergeLeases(leases.get(holder), lease));
	return {
		entries: Math.max(a.entries, b.entries),
		exits: Math.max(a.exits, b.exits),
		staffEntries: Math.max(a.staffEntries, b.staffEntries),
		staffExits: Math.max(a.staffExits, b.staffExits),
		refused: Math.max(a.refused, b.refused),
		given: mergeCounts(a.given, b.given),
		taken: mergeCounts(a.taken, b.taken),
		leases,
		assignment: laterAssignment(a.assignment, b.assignment),
	};
}

function mergeCounts(a: ReadonlyMap<SensorId, number>, b: ReadonlyMap<SensorId, number>): ReadonlyMap<SensorId, number> {
	const merged = new Map(a);
	for (const [to, count] of b) merged.set(to, Math.max(merged.get(to) ?? 0, count));
	return merged;
}

/** A later generation replaces an earlier one; within one, the cap only grows. */
function mergeLeases(a: Lease | undefined, b: Lease): Lease {
	if (a === undefined || b.gen > a.gen) return b;
	if (a.gen > b.gen) return a;
	return a.cap >= b.cap ? a : b;
}

function laterAssignment(a: Assignment | null, b: Assignment | null): Assignment | null {
	if (a === null) return b;
	if (b === null || a.gen >= b.gen) return a;
	return b;
}

function coversCounts(a: ReadonlyMap<SensorId, number>, b: ReadonlyMap<SensorId, number>): boolean {
	for (const [to, count] of b) if ((a.get(to) ?? 0) < count) return false;
	return true;
}

/** True when `a` already holds everything `b` does, so merging `b` would change nothing. */
export function rowCovers(a: Row, b: Row): boolean {
	if (
		a.entries < b.entries ||
		a.exits < b.exits ||
		a.staffEntries < b.staffEntries ||
		a.staffExits < b.staffExits ||
		a.refused < b.refused
	) {
		return false;
	}
	if (!coversCounts(a.given, b.given) || !coversCounts(a.taken, b.taken)) return false;
	for (const [holder, lease] of b.leases) {
		const mine = a.leases.get(holder);
		if (!mine || mine.gen < lease.gen || (mine.gen === lease.gen && mine.cap < lease.cap)) return false;
	}
	return b.assignment === null || (a.assignment !== null && a.assignment.gen >= b.assignment.gen);
}

export function incremented(row: Row, field: CounterField, by = 1): Row {
	return { ...row, [field]: row[field] + by };
}

export function withGift(row: Row, to: SensorId, count: number): Row {
	const given = new Map(row.given);
	given.set(to, (given.get(to) ?? 0) + count);
	return { ...row, given };
}

export function totalGiven(row: Row): number {
	return sumCounts(row.given);
}

export function withTaken(row: Row, from: SensorId, total: number): Row {
	const taken = new Map(row.taken);
	taken.set(from, Math.max(taken.get(from) ?? 0, total));
	return { ...row, taken };
}

export function withLease(row: Row, holder: SensorId, lease: Lease): Row {
	const leases = new Map(row.leases);
	leases.set(holder, mergeLeases(leases.get(holder), lease));
	return { ...row, leases };
}

export function sumCounts(counts: ReadonlyMap<SensorId, number>): number {
	let sum = 0;
	for (const count of counts.values()) sum += count;
	return sum;
}
