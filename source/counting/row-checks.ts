import type { SensorId } from '../model/ids.js';
import { reclaimTarget } from './lease.js';
import type { Row } from './row.js';

/**
 * Why a replica will not count a row (design.md §7): what its owner's role could not
 * have produced, given the rows the replica holds. A row refused for one of these reasons
 * waits (pending) and is checked again whenever another row arrives: most are only early
 * (a sibling's exit before the entry it balances, a spend before the gift that paid for
 * it). A row that never becomes checkable stays out for good, and its owner is flagged.
 *
 * A row is counted whole or not at all. Counting part of a row would not be safe: a
 * replica that missed an earlier version cannot tell which of a liar's gifts came first,
 * so it could credit again what another replica already credited. A whole version that
 * passes in a replica's view passes in the full history too (what the owner received
 * only grows as rows arrive), and an honest owner's versions are nested: so the versions
 * replicas count, whichever they are, never credit more than the owner had.
 */
export type RowProblem =
	/** A staff entrance counting visitors, giving or taking permits: it holds none. */
	| 'staff-sensor-counts-visitors'
	/** More exits than entries across the area: occupancy would go below zero. */
	| 'negative-occupancy'
	| 'negative-staff'
	/** It spent or gave away permits it never received. */
	| 'outflow-beyond-permits'
	/** It spent or gave away beyond the lease its granter gave it. */
	| 'outflow-beyond-lease'
	/** It took back from a holder more than that holder held above the lease it granted. */
	| 'take-beyond-lease'
	/** It took back from a holder it does not grant (not, or no longer). */
	| 'take-by-non-granter'
	/** Two versions of its row, both signed, neither containing the other: it told replicas different things. */
	| 'equivocation';

/** The replica's view a check reads: the AreaLedger, with the row under test already in place. */
export interface RowView {
	readonly ring: ReadonlySet<SensorId>;
	occupancy(): number;
	staff(): number;
	permitsOf(sensor: SensorId): number;
	outflowOf(sensor: SensorId): number;
	capOf(sensor: SensorId): number;
	assignmentOf(sensor: SensorId): { readonly gen: number; readonly granter: SensorId; readonly formerTaken: number; readonly granterTaken: number; readonly floor: number } | null;
	basisFor(sensor: SensorId, granter: SensorId, gen: number): number | null;
	/** Everything granters other than the current one took from `sensor`. */
	takenByFormer(sensor: SensorId): number;
}

/**
 * Checks `candidate` as `owner`'s row in `view` (which already holds it), against the
 * row the replica counted before (`previous`). Null when the row is one its owner could
 * have produced. The order matters only for which problem is named.
 */
export function checkRow(view: RowView, owner: SensorId, candidate: Row, previous: Row): RowProblem | null {
	if (!view.ring.has(owner)) {
		// Staff entrances hold no permits: whoever passes is staff, and nothing else is theirs to write.
		if (candidate.entries > 0 || candidate.exits > 0 || candidate.given.size > 0 || candidate.taken.size > 0 || candidate.leases.size > 0 || candidate.assignment !== null) {
			return 'staff-sensor-counts-visitors';
		}
	}
	if (view.occupancy() < 0) return 'negative-occupancy';
	if (view.staff() < 0) return 'negative-staff';
	for (const [holder, total] of candidate.taken) {
		if (total <= (previous.taken.get(holder) ?? 0)) continue;
		const assignment = view.assignmentOf(holder);
		if (assignment !== null && assignment.granter === owner) {
			// What it took before this generation, and above the lease of this one.
			const lease = candidate.leases.get(holder);
			if (total > assignment.granterTaken + reclaimTarget(lease, assignment.gen, assignment.floor, view.basisFor(holder, owner, assignment.gen))) return 'take-beyond-lease';
		} else if (assignment === null || view.takenByFormer(holder) > assignment.formerTaken) {
			// A former granter's takes were final when the tracker moved the holder: the
			// assignment it signed says how much they came to, and no more is believed.
			return 'take-by-non-granter';
		}
	}
	if (view.ring.has(owner)) {
		if (view.permitsOf(owner) < 0) return 'outflow-beyond-permits';
		if (view.outflowOf(owner) > view.capOf(owner)) return 'outflow-beyond-lease';
	}
	return null;
}
