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
}

export const EMPTY_ROW: Row = {
	entries: 0,
	exits: 0,
	staffEntries: 0,
	staffExits: 0,
	refused: 0,
	given: new Map(),
};

export type CounterField = 'entries' | 'exits' | 'staffEntries' | 'staffExits' | 'refused';

/** The join of two versions of the same sensor's row: commutative, associative, idempotent. */
export function mergeRows(a: Row, b: Row): Row {
	const given = new Map(a.given);
	for (const [to, count] of b.given) {
		given.set(to, Math.max(given.get(to) ?? 0, count));
	}
	return {
		entries: Math.max(a.entries, b.entries),
		exits: Math.max(a.exits, b.exits),
		staffEntries: Math.max(a.staffEntries, b.staffEntries),
		staffExits: Math.max(a.staffExits, b.staffExits),
		refused: Math.max(a.refused, b.refused),
		given,
	};
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
	for (const [to, count] of b.given) {
		if ((a.given.get(to) ?? 0) < count) return false;
	}
	return true;
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
	let sum = 0;
	for (const count of row.given.values()) sum += count;
	return sum;
}
