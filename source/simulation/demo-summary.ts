import type { Crowd } from './crowd.js';
import type { DemoCluster } from './demo-cluster.js';
import type { LatencySummary } from './latency.js';

/** The summary a demo ends with: its last JSON line. */
export interface DemoSummary {
	readonly type: 'summary';
	readonly areas: Record<string, { capacity: number; occupancy: number; staff: number; peak: number; admitted: number; refused: number }>;
	readonly violations: number;
	readonly converged: boolean;
	readonly datagrams: { sent: number; flood: number; saved: number; savedPercent: number; dropped: Record<string, number> };
	readonly moves: { tried: number; admitted: number; refused: number; refusedBy: Record<string, number>; perSecond: number };
	/**
	 * Refusals while the truth had room (every area the move enters below capacity, or an
	 * exit, whose person is inside): how many, their share of the moves tried, by reason.
	 */
	readonly falseRefusals: { total: number; percent: number; by: Record<string, number> };
	/** From a move handed to its door to the door's answer, in ms. */
	readonly decisionMs: LatencySummary;
	readonly peers: number;
	readonly drainMs: number;
}

/** The moves the traffic tried and how they were answered. */
export interface MoveCounts {
	readonly tried: number;
	readonly admitted: number;
	readonly refused: number;
	readonly refusedBy: Readonly<Record<string, number>>;
	readonly latency: LatencySummary;
}

/** True once the observer and every running sensor agree exactly with the truth. */
export function converged(cluster: DemoCluster, crowd: Crowd): boolean {
	for (const [sensor, peer] of cluster.peers) {
		if (cluster.down.has(sensor)) continue;
		for (const area of peer.counter.areas) {
			const ledger = peer.counter.ledger(area)!;
			const truth = crowd.truth.get(area)!;
			if (ledger.occupancy() !== truth.visitors || ledger.staff() !== truth.staff) return false;
		}
	}
	for (const [area, truth] of crowd.truth) {
		const ledger = cluster.observer.ledger(area);
		if (!ledger || ledger.occupancy() !== truth.visitors || ledger.staff() !== truth.staff) return false;
	}
	return true;
}

/** What the sensors sent, what flooding every member would have cost, and what every member dropped, by reason. */
export function datagrams(cluster: DemoCluster): DemoSummary['datagrams'] {
	let sent = 0;
	let flood = 0;
	const dropped: Record<string, number> = {};
	const members = [...[...cluster.peers.values()].map((peer) => peer.node.traffic), cluster.observer.node.traffic];
	for (const traffic of members) {
		sent += traffic.sent;
		flood += traffic.flood;
		for (const [reason, count] of traffic.dropped) dropped[reason] = (dropped[reason] ?? 0) + count;
	}
	for (const [reason, count] of cluster.tracker.link.traffic.dropped) dropped[reason] = (dropped[reason] ?? 0) + count;
	const saved = flood - sent;
	return { sent, flood, saved, savedPercent: flood === 0 ? 0 : Math.round((1000 * saved) / flood) / 10, dropped };
}

export function summarize(cluster: DemoCluster, crowd: Crowd, moves: MoveCounts, trafficMs: number, isConverged: boolean, drainMs: number): DemoSummary {
	const areas: DemoSummary['areas'] = {};
	for (const [id, truth] of crowd.truth) {
		areas[id] = {
			capacity: cluster.options.mall.areas.get(id)!.capacity,
			occupancy: truth.visitors,
			staff: truth.staff,
			peak: truth.peak,
			admitted: truth.admitted,
			refused: truth.refused,
		};
	}
	return {
		type: 'summary',
		areas,
		violations: crowd.violations,
		converged: isConverged,
		datagrams: datagrams(cluster),
		moves: { tried: moves.tried, admitted: moves.admitted, refused: moves.refused, refusedBy: { ...moves.refusedBy }, perSecond: Math.round((moves.tried * 1000) / Math.max(1, trafficMs)) },
		falseRefusals: falseRefusals(crowd, moves.tried),
		decisionMs: moves.latency,
		peers: cluster.peers.size,
		drainMs: Math.round(drainMs),
	};
}

/** The crowd's false refusals, with their share of the moves tried (in percent, to 0.01). */
export function falseRefusals(crowd: Crowd, tried: number): DemoSummary['falseRefusals'] {
	const by = { ...crowd.falseRefusals };
	const total = Object.values(by).reduce((sum, count) => sum + count, 0);
	return { total, percent: tried === 0 ? 0 : Math.round((10_000 * total) / tried) / 100, by };
}
