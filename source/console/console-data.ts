/**
 * What the console shows, as plain data: built by the shell from a running role (the
 * demo, for now) ten times a second, rendered by the panes. Panes never reach into the
 * network objects themselves, so they can be tested from a literal.
 */
export interface AreaRow {
	readonly id: string;
	readonly kind: 'mall' | 'floor' | 'store';
	readonly name: string;
	readonly parent: string | null;
	readonly capacity: number;
	readonly occupancy: number;
	readonly staff: number;
	readonly refused: number;
	/** On a sensor's own console: the permits it holds in this area. */
	readonly permits?: number;
	/** And how many of them its lease lets it spend before its granter gives more (null: it needs no lease there). */
	readonly lease?: number | null;
	/** The mall and floors: occupancy once a second, oldest first, for a sparkline. */
	readonly history?: readonly number[];
}

export interface PeerRow {
	readonly id: string;
	readonly role: 'sensor' | 'observer';
	readonly area: string;
	readonly address: string;
	readonly status: 'alive' | 'suspect' | 'dead';
	readonly incarnation: number;
	/** Milliseconds since the observer last heard from it; null if it never did. */
	readonly lastHeardMs: number | null;
	readonly datagramsIn: number;
	readonly datagramsOut: number;
	/** Why this member's replica holds back some of the sensor's rows (what its role could not have done); absent when none. */
	readonly flagged?: string;
}

/** The console's word for a flag: the reason most rows were held back for. */
export function flagOf(held: Readonly<Record<string, number>> | undefined): string | undefined {
	const reasons = Object.entries(held ?? {}).sort((a, b) => b[1] - a[1]);
	return reasons.length === 0 ? undefined : reasons[0]![0];
}

/** A restart; figures only the restarted peer knows are null elsewhere (shown as —). */
export interface RecoveryRow {
	readonly peer: string;
	readonly incarnation: number;
	readonly replayed: number | null;
	readonly ms: number | null;
	readonly fetched: number | null;
	readonly tornTail: boolean;
}

/** Permits a granter took back from a sensor declared dead (counting/lease.ts). */
export interface ReclaimRow {
	readonly by: string;
	readonly from: string;
	readonly area: string;
	readonly permits: number;
}

/** A budget as the console shows it: Infinity (no lease needed) becomes null. */
export const finite = (value: number): number | null => (Number.isFinite(value) ? value : null);

type Event = { readonly type: string; readonly [key: string]: unknown };

/** `recovery` events as the Recovery pane's rows. */
export function recoveryRows(events: readonly Event[]): RecoveryRow[] {
	return events
		.filter((event) => event.type === 'recovery')
		.map((event) => ({ peer: String(event['sensor']), incarnation: Number(event['incarnation']), replayed: Number(event['replayed']), ms: Number(event['ms']), fetched: Number(event['fetched']), tornTail: event['tornTail'] === true }));
}

/**
 * Rows derived from a list of events that only grows (or slides): derived again only once
 * another event arrived, not on each of the console's ten refreshes a second.
 */
export class EventRows<Row> {
	#count = -1;
	#rows: readonly Row[] = [];

	constructor(readonly derive: (events: readonly Event[]) => readonly Row[]) {}

	/** `count`: how many events ever arrived, which changes whenever the list does. */
	read(events: readonly Event[], count: number): readonly Row[] {
		if (count !== this.#count) {
			this.#count = count;
			this.#rows = this.derive(events);
		}
		return this.#rows;
	}
}

/** Turns `reclaim` events into rows: the same shape from a peer's log or the demo's. */
export function reclaimRows(events: readonly Event[]): ReclaimRow[] {
	return events
		.filter((event) => event.type === 'reclaim' || event.type === 'take-approved')
		.map((event) => ({ by: String(event['sensor'] ?? event['granter']), from: String(event['from'] ?? event['holder']), area: String(event['area']), permits: Number(event['permits']) }));
}

export interface ConsoleData {
	readonly header: { readonly role: string; readonly identity: string; readonly mall: string; readonly epoch: number; readonly trackerUp: boolean; readonly uptimeMs: number };
	readonly areas: readonly AreaRow[];
	readonly peers: readonly PeerRow[];
	readonly saved: { readonly sent: number; readonly flood: number; readonly saved: number; readonly percent: number; readonly history: readonly number[] };
	readonly recoveries: readonly RecoveryRow[];
	readonly reclaims: readonly ReclaimRow[];
	readonly logs: readonly string[];
	readonly simulation: {
		readonly paused: boolean;
		readonly rate: number;
		readonly population: number;
		readonly violations: number;
		readonly admitted: number;
		readonly refused: number;
		/** Refused while the truth had room (the demo's falseRefusals): the network's limits showing, not the mall's. */
		readonly refusedWithRoom: number;
	} | null;
}

/** Green below 80 %, amber below 95 %, red from 95 % (the thresholds). */
export type Level = 'ok' | 'warn' | 'danger';

export function levelOf(occupancy: number, capacity: number): Level {
	const share = capacity === 0 ? 1 : occupancy / capacity;
	return share >= 0.95 ? 'danger' : share >= 0.8 ? 'warn' : 'ok';
}
