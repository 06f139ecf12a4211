import type { SensorId } from '../model/ids.js';
import type { Lease } from './row.js';

/**
 * Leases: how a dead sensor's permits return to its area without ever being spent twice
 * (design.md §5, docs/design.md "Reclaiming permits").
 *
 * A holder spends (admits, or gives permits away) only within a budget, its lease, that
 * one sibling, its granter, gave it: its outflow may reach the lease's cap and no further.
 * Everything the holder has above that cap may be taken back by that granter once the
 * holder is declared dead, and only by it: the tracker notarises every take and refuses a
 * granter that is no longer the holder's. The fence is counted, not timed: a holder cut
 * off from everyone still spends only within its cap, so no clock has to be trusted.
 *
 * Why a take never overlaps what the holder may spend, for a holder H and granter G:
 *
 * - H spends only within its cap (outflow ≤ cap) and within the permits it knows of
 *   (outflow ≤ inflow − takes it has heard of). Its cap comes in G's row, and that same
 *   row carries every take G made so far: a cap is never known without the takes before it.
 * - G takes, in total, basis − cap, where cap is the largest it granted (so ≥ H's outflow)
 *   and basis the inflow G can see in the rows it holds (≤ H's real inflow, less former
 *   granters' takes). Every replica checks a take the same way against the rows it holds
 *   (counting/row-checks.ts), so a granter that takes more is not believed.
 *
 * A take before H's last grant is known to H, so H's own count keeps it from spending it.
 * A take after it leaves H at most cap, and outflow + take ≤ cap + (basis − cap) = basis.
 * Either way, what H spends and what was taken add up to no more than H ever received.
 * test/sensor-counter.test.ts checks this over random interleavings.
 */

/** The default granter of `holder`: the admitting sensor after it in layout order. */
export function defaultGranter(ring: readonly SensorId[], holder: SensorId): SensorId | null {
	const index = ring.indexOf(holder);
	if (index < 0 || ring.length < 2) return null; // nobody else could take its permits
	return ring[(index + 1) % ring.length]!;
}

/** What a holder sends its granter when its budget runs low. */
export interface LeaseRequest {
	/** The assignment generation the holder believes current. */
	readonly gen: number;
	/** Its outflow now. */
	readonly outflow: number;
	/** How far beyond its outflow it would like to be able to spend. */
	readonly want: number;
	/** What it may already have spent under former granters (the assignment's floor). */
	readonly floor: number;
}

/**
 * The lease a granter gives for `request`: the cap grows to the holder's outflow plus
 * what it wants, and never shrinks within a generation (the holder may already spend it).
 *
 * `limit` is for a granter that has taken from this holder before: its cap and its takes
 * together stay within what it can see the holder received (its outflow plus the permits
 * it holds), as a replica checking the takes against the newest cap requires. A lease
 * granted after a take needs no more room than that: the holder learns the take in the
 * same row as the cap.
 */
export function grantLease(current: Lease | undefined, request: LeaseRequest, limit = Infinity): Lease {
	if (current && current.gen > request.gen) return current; // a request from before a later assignment
	const base = current && current.gen === request.gen ? current : { gen: request.gen, cap: request.floor };
	return { gen: request.gen, cap: Math.max(base.cap, request.floor, Math.min(request.outflow + request.want, limit)) };
}

/**
 * The total a granter may have taken from a dead holder in generation `gen`: everything
 * above the budget it gave (or, with no lease yet, above the assignment's floor), counted
 * from the inflow `basis` seen in the rows held. Replicas check a take with this same
 * function against their own rows, so a granter takes only what they can all see.
 */
export function reclaimTarget(lease: Lease | undefined, gen: number, floor: number, basis: number | null): number {
	const current = lease && lease.gen === gen ? lease : undefined;
	const cap = Math.max(current?.cap ?? 0, floor);
	return Math.max(0, (basis ?? 0) - cap);
}

/** The smallest budget asked for: one burst at the gate must not exhaust it. */
const MIN_BUDGET = 8;

/**
 * How much budget to ask for: enough for a few seconds at the demand seen, and never so
 * little that one burst at the gate exhausts it.
 */
export function budgetWanted(recentDemand: number): number {
	return Math.max(MIN_BUDGET, Math.ceil(recentDemand));
}
