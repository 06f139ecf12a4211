import type { AreaId, SensorId } from '../model/ids.js';
import type { MallLayout } from '../model/mall.js';
import { admittingSensors } from './admitting-sensors.js';
import { defaultGranter } from './lease.js';
import type { Assignment } from './row.js';

/** An assignment as the registry decides it; the tracker signs it before it goes out. */
export type AssignmentTerms = Omit<Assignment, 'sig'>;

/** One holder's granter as the tracker keeps it. */
interface GranterRecord {
	readonly gen: number;
	readonly granter: SensorId;
	readonly floor: number;
	/** What each granter ever took from this holder, cumulative. */
	readonly takes: ReadonlyMap<SensorId, number>;
	/** What this generation's granter had taken before it began (a granter can come back): fixed at the move. */
	readonly granterTakenBefore: number;
}

/** As written in the tracker's data directory: `area holder` → record. */
export type SavedGranters = Record<string, { gen: number; granter: string; floor: number; takes: Record<string, number>; granterTakenBefore?: number }>;

export type Verdict = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/**
 * The tracker's side of leases (counting/lease.ts): which sibling grants each holder's
 * leases, and every permit a granter took back. The tracker is the one place that
 * serialises the two decisions that could otherwise collide: a granter taking from a
 * holder it believes dead, and that holder moving to another granter because it believes
 * the first one dead. Whichever reaches the tracker first wins; the other is refused. So
 * a former granter can never take again, and a new one learns exactly what was taken.
 *
 * Pure: the tracker persists `toJSON()` before it answers.
 */
export class GranterRegistry {
	readonly #records = new Map<string, GranterRecord>();
	/** Each area's admitting sensors in layout order (its ring), computed once. */
	readonly #rings = new Map<AreaId, readonly SensorId[]>();

	constructor(readonly layout: MallLayout, saved: SavedGranters = {}) {
		for (const area of layout.areas.keys()) this.#rings.set(area, admittingSensors(layout, area));
		for (const [key, record] of Object.entries(saved)) {
			this.#records.set(key, { gen: record.gen, granter: record.granter as SensorId, floor: record.floor, takes: new Map(Object.entries(record.takes) as [SensorId, number][]), granterTakenBefore: record.granterTakenBefore ?? 0 });
		}
	}

	/** The holder's granter now; null when it has none (it is its area's only admitting sensor, or not one). */
	assignment(area: AreaId, holder: SensorId): AssignmentTerms | null {
		const record = this.#record(area, holder);
		if (!record) return null;
		let formerTaken = 0;
		for (const [granter, taken] of record.takes) if (granter !== record.granter) formerTaken += taken;
		return { gen: record.gen, granter: record.granter, formerTaken, granterTaken: record.granterTakenBefore, floor: record.floor };
	}

	/**
	 * Moves the holder's leases to `to` in a new generation, if `gen` is still current (a
	 * repeated or late request changes nothing). `floor` is the outflow the holder may have
	 * reached so far. Even a move to the same granter starts a new generation: the leases
	 * of the old one, which may have grown since the holder asked, count no more.
	 */
	reassign(area: AreaId, holder: SensorId, gen: number, to: SensorId, floor: number): Verdict {
		const record = this.#record(area, holder);
		if (!record) return { ok: false, reason: `${holder} needs no granter in ${area}` };
		if (!this.#ring(area).includes(to)) return { ok: false, reason: `${to} does not admit into ${area}` };
		if (gen !== record.gen) return { ok: false, reason: `generation ${gen} is not current (${record.gen})` };
		this.#records.set(key(area, holder), { gen: record.gen + 1, granter: to, floor, takes: record.takes, granterTakenBefore: record.takes.get(to) ?? 0 });
		return { ok: true };
	}

	/** Records that `granter` took `total` (cumulative) from `holder`, if it is still the holder's granter in `gen`. */
	take(area: AreaId, holder: SensorId, granter: SensorId, gen: number, total: number): Verdict {
		const record = this.#record(area, holder);
		if (!record || record.granter !== granter || record.gen !== gen || granter === holder) {
			return { ok: false, reason: `${granter} is not ${holder}'s granter in ${area} generation ${gen}` };
		}
		const takes = new Map(record.takes);
		takes.set(granter, Math.max(takes.get(granter) ?? 0, total));
		this.#records.set(key(area, holder), { ...record, takes });
		return { ok: true };
	}

	/** What `granter` took from `holder` in `area` so far. */
	takenBy(area: AreaId, holder: SensorId, granter: SensorId): number {
		return this.#record(area, holder)?.takes.get(granter) ?? 0;
	}

	toJSON(): SavedGranters {
		const saved: SavedGranters = {};
		for (const [k, record] of this.#records) saved[k] = { gen: record.gen, granter: record.granter, floor: record.floor, takes: Object.fromEntries(record.takes), granterTakenBefore: record.granterTakenBefore };
		return saved;
	}

	#record(area: AreaId, holder: SensorId): GranterRecord | null {
		const stored = this.#records.get(key(area, holder));
		if (stored) return stored;
		const granter = defaultGranter(this.#ring(area), holder);
		return granter === null ? null : { gen: 0, granter, floor: 0, takes: new Map(), granterTakenBefore: 0 };
	}

	#ring(area: AreaId): readonly SensorId[] {
		return this.#rings.get(area) ?? [];
	}
}

const key = (area: AreaId, holder: SensorId): string => `${area} ${holder}`;
