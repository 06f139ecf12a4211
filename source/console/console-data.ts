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

export interface ConsoleData {
	readonly header: { readonly role: string; readonly identity: string; readonly mall: string; readonly epoch: number; readonly trackerUp: boolean; readonly uptimeMs: number };
	readonly areas: readonly AreaRow[];
	readonly peers: readonly PeerRow[];
	readonly saved: { readonly sent: number; readonly flood: number; readonly saved: number; readonly percent: number; readonly history: readonly number[] };
	readonly recoveries: readonly RecoveryRow[];
	readonly logs: readonly string[];
	readonly simulation: { readonly paused: boolean; readonly rate: number; readonly population: number; readonly violations: number; readonly admitted: number; readonly refused: number } | null;
}

/** Green below 80 %, amber below 95 %, red from 95 % (the thresholds). */
export type Level = 'ok' | 'warn' | 'danger';

export function levelOf(occupancy: number, capacity: number): Level {
	const share = capacity === 0 ? 1 : occupancy / capacity;
	return share >= 0.95 ? 'danger' : share >= 0.8 ? 'warn' : 'ok';
}
