import type { SensorId } from '../model/ids.js';
import type { AreaLedger } from './area-ledger.js';

export interface Gift {
	readonly to: SensorId;
	readonly count: number;
}

/**
 * Where this sensor's idle permits should drift (design.md §1: "idle permits move
 * between sensors in the background"). Permits are shared out in proportion to recent
 * demand; a sensor holding more than its share gives the surplus to the sibling furthest
 * below its own share. Only ever gives, never takes: taking would need the holder's
 * consent, and giving is safe on any stale view (permits are conserved).
 */
export function rebalanceGift(
	ledger: AreaLedger,
	self: SensorId,
	admitting: readonly SensorId[],
	demand: ReadonlyMap<SensorId, number>,
): Gift | null {
	const mine = ledger.permitsOf(self);
	if (mine <= 0) return null;
	// Each permitsOf walks every row of the area: once per sensor is enough.
	const held = new Map(admitting.map((sensor) => [sensor, Math.max(0, ledger.permitsOf(sensor))]));
	let total = 0;
	let totalDemand = 0;
	for (const sensor of admitting) {
		total += held.get(sensor)!;
		totalDemand += demand.get(sensor) ?? 0;
	}
	if (totalDemand === 0) return null;
	const share = (sensor: SensorId): number => Math.floor((total * (demand.get(sensor) ?? 0)) / totalDemand);
	const surplus = mine - share(self);
	if (surplus < 1) return null;
	let best: Gift | null = null;
	for (const sensor of admitting) {
		if (sensor === self) continue;
		const deficit = share(sensor) - held.get(sensor)!;
		if (deficit >= 1 && (best === null || deficit > best.count)) best = { to: sensor, count: deficit };
	}
	return best === null ? null : { to: best.to, count: Math.min(best.count, surplus) };
}

/**
 * How many permits to lend a sibling that asked: half of what this sensor holds, rounded
 * up, so a lender with one permit still lends it and two sensors asking in turn split
 * what is left instead of one draining the other.
 */
export function loanSize(mine: number, wanted: number): number {
	if (mine <= 0) return 0;
	return Math.min(Math.max(1, wanted), Math.ceil(mine / 2));
}
