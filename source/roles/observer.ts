import type { AreaId } from '../model/ids.js';
import { sensorId } from '../model/ids.js';
import type { AreaKind } from '../model/mall.js';
import type { AreaLedger } from '../counting/area-ledger.js';
import { ledgerFor } from '../counting/sensor-counter.js';
import { caresAbout } from '../network/routing.js';
import type { MemberMessage, MemberRecord } from '../protocol/messages.js';
import { rowFromWire, rowToWire } from '../protocol/wire-row.js';
import { MemberNode, type MemberOptions } from './member-node.js';

export interface AreaFigures {
	readonly kind: AreaKind;
	readonly name: string;
	readonly parent: string | null;
	readonly capacity: number;
	/** Visitors inside. */
	readonly occupancy: number;
	/** Staff inside, counted apart. */
	readonly staff: number;
	readonly admitted: number;
	readonly refused: number;
}

/**
 * A read-only member: follows areas and holds a replica of each, merged from the rows
 * their sensors send. It has no row of its own, so it cannot change a count; sensors
 * ignore anything else it might send.
 */
export class Observer {
	readonly #ledgers = new Map<AreaId, AreaLedger>();
	/** Each sensor's datagram counters as it last reported them. */
	readonly #traffic = new Map<string, { sent: number; flood: number }>();
	#cancelHeartbeat: () => void = () => {};
	#listeners: (() => void)[] = [];

	private constructor(readonly node: MemberNode) {
		for (const area of node.layout.areas.keys()) {
			if (caresAbout(node.layout, node.self, area)) this.#ledgers.set(area, ledgerFor(node.layout, area));
		}
	}

	static async start(options: Omit<MemberOptions, 'role' | 'sensor'>): Promise<Observer> {
		const node = await MemberNode.join({ ...options, role: 'observer', sensor: null });
		const observer = new Observer(node);
		node.serve({
			onMessage: (sender, message) => observer.#onMessage(sender, message),
			onJoined() {},
			onSuperseded: () => void node.crash(),
			neighbours: () => observer.#sensors(),
		});
		// Observers send no rows: a heartbeat tells the sensors they follow that they are there.
		observer.#cancelHeartbeat = node.options.clock.setInterval(() => {
			for (const id of observer.#sensors()) node.send(id, { type: 'heartbeat' });
		}, node.options.timings.antiEntropyMs);
		return observer;
	}

	/** Called after every change of a figure (the shell coalesces). */
	onChange(listener: () => void): void {
		this.#listeners.push(listener);
	}

	areas(): Record<string, AreaFigures> {
		const figures: Record<string, AreaFigures> = {};
		for (const [id, ledger] of this.#ledgers) {
			const area = this.node.layout.areas.get(id)!;
			figures[id] = {
				kind: area.kind,
				name: area.name,
				parent: area.parent,
				capacity: ledger.capacity,
				occupancy: ledger.occupancy(),
				staff: ledger.staff(),
				admitted: ledger.admitted(),
				refused: ledger.refused(),
			};
		}
		return figures;
	}

	/** What the sensors it hears from have sent, and what flooding every member would have cost. */
	datagrams(): { sent: number; flood: number; saved: number; sensors: number } {
		let sent = 0;
		let flood = 0;
		for (const counters of this.#traffic.values()) {
			sent += counters.sent;
			flood += counters.flood;
		}
		return { sent, flood, saved: flood - sent, sensors: this.#traffic.size };
	}

	ledger(area: AreaId): AreaLedger | undefined {
		return this.#ledgers.get(area);
	}

	#onMessage(sender: MemberRecord, message: MemberMessage): void {
		if (message.type === 'own-rows-query' && sender.role === 'sensor' && sender.sensor !== null) {
			// A sensor back from a crash asks for its own rows: a store's only door may have no other replica.
			const owner = sensorId(sender.sensor);
			const rows = [...this.#ledgers].filter(([, ledger]) => ledger.hasSensor(owner)).map(([area, ledger]) => rowToWire(area, ledger.row(owner)));
			this.node.send(sender.id, { type: 'own-rows', rows });
			return;
		}
		if (message.type !== 'rows' || sender.role !== 'sensor' || sender.sensor === null) {
			this.node.link.traffic.countDrop(message.type === 'rows' ? 'not-allowed' : 'unexpected');
			return;
		}
		let changed = false;
		if (message.traffic) {
			const previous = this.#traffic.get(sender.sensor);
			// Counters only grow; a late datagram must not move them back.
			if (!previous || message.traffic.sent > previous.sent) {
				this.#traffic.set(sender.sensor, message.traffic);
				changed = true;
			}
		}
		for (const wire of message.rows) {
			const ledger = this.#ledgers.get(wire.a as AreaId);
			const owner = sensorId(sender.sensor);
			if (!ledger?.hasSensor(owner)) continue;
			changed = ledger.merge(owner, rowFromWire(wire)) || changed;
		}
		if (changed) for (const listener of this.#listeners) listener();
	}

	#followed: { directory: unknown; version: number; ids: ReadonlySet<string> } = { directory: null, version: -1, ids: new Set() };

	/** The sensors of the areas this observer follows, found again only when the directory changes. */
	#sensors(): ReadonlySet<string> {
		const directory = this.node.directory;
		// A rejoin replaces the directory and starts its versions again: compare both.
		if (this.#followed.directory === directory && this.#followed.version === directory.version) return this.#followed.ids;
		const ids = new Set<string>();
		for (const member of this.node.directory.members()) {
			if (member.role !== 'sensor' || member.sensor === null) continue;
			for (const ledger of this.#ledgers.values()) {
				if (ledger.hasSensor(sensorId(member.sensor))) {
					ids.add(member.id);
					break;
				}
			}
		}
		this.#followed = { directory, version: directory.version, ids };
		return ids;
	}

	async close(): Promise<void> {
		this.#cancelHeartbeat();
		await this.node.close();
	}
}
