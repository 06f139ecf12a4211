import type { AreaId } from '../../model/ids.js';
import type { AreaKind } from '../../model/mall.js';
import type { AreaLedger } from '../../counting/area-ledger.js';
import { ledgerFor } from '../../counting/sensor-counter.js';
import type { Address } from '../../network/address.js';
import { caresAbout } from '../../network/routing.js';
import type { MemberMessage, MemberRecord } from '../../protocol/messages.js';
import { Outbox } from '../../runtime/outbox.js';
import { MemberCore, type MemberConfig, type MemberEffect } from '../member/member-core.js';
import { ReplicaKeeper, type RowProof } from '../replica-keeper.js';

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

export type ObserverEffect =
	| MemberEffect
	/** A figure changed (the shell coalesces). */
	| { readonly kind: 'changed' };

/**
 * A read-only member, as a state machine: follows areas and holds a replica of each,
 * merged from the rows their sensors send and checked as any replica checks them. It has
 * no row of its own, so it cannot change a count; what it passes on to a restarted
 * sensor counts only with that sensor's own signature.
 */
export class ObserverCore {
	readonly outbox = new Outbox<ObserverEffect>();
	readonly member: MemberCore;
	readonly #ledgers = new Map<AreaId, AreaLedger<RowProof>>();
	#replicas: ReplicaKeeper | null = null;
	/** Each sensor's datagram counters as it last reported them. */
	readonly #traffic = new Map<string, { sent: number; flood: number }>();
	#heartbeatAt = Infinity;
	#maintainAt = Infinity;
	#followed: { directory: unknown; version: number; ids: ReadonlySet<string> } = { directory: null, version: -1, ids: new Set() };

	constructor(readonly config: Omit<MemberConfig, 'role' | 'sensor'>, now: number) {
		this.member = new MemberCore(
			{ ...config, role: 'observer', sensor: null },
			this.outbox,
			{
				onServing: (when) => this.#onServing(when),
				onMessage: (sender, message, when) => this.#onMessage(sender, message, when),
				onJoined: () => {},
				neighbours: () => this.#sensors(),
			},
			now,
		);
	}

	get replicas(): ReplicaKeeper | null {
		return this.#replicas;
	}

	receive(bytes: Buffer, from: Address, now: number): void {
		this.member.receive(bytes, from, now);
	}

	tick(now: number): void {
		this.member.tick(now);
		if (now >= this.#heartbeatAt) {
			// Observers send no rows: a heartbeat tells the sensors they follow that they are there.
			this.#heartbeatAt = now + this.config.timings.antiEntropyMs;
			for (const id of this.#sensors()) this.member.send(id, { type: 'heartbeat' });
		}
		if (now >= this.#maintainAt) {
			this.#maintainAt = now + this.config.timings.rebalanceMs;
			this.#replicas?.tick(now, [...this.#sensors()]);
		}
	}

	wakeAt(): number {
		return Math.min(this.member.wakeAt(), this.#heartbeatAt, this.#maintainAt);
	}

	areas(): Record<string, AreaFigures> {
		const figures: Record<string, AreaFigures> = {};
		for (const [id, ledger] of this.#ledgers) {
			const area = this.member.layout.areas.get(id)!;
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

	ledger(area: AreaId): AreaLedger<RowProof> | undefined {
		return this.#ledgers.get(area);
	}

	#onServing(now: number): void {
		const { member } = this;
		for (const area of member.layout.areas.keys()) {
			if (caresAbout(member.layout, member.self, area)) this.#ledgers.set(area, ledgerFor<RowProof>(member.layout, area));
		}
		this.#replicas = new ReplicaKeeper(this.#ledgers, member, null);
		this.#heartbeatAt = now;
		this.#maintainAt = now + this.config.timings.rebalanceMs;
	}

	#onMessage(sender: MemberRecord, message: MemberMessage, now: number): void {
		const replicas = this.#replicas;
		if (!replicas) return;
		switch (message.type) {
			case 'rows': {
				let changed = false;
				if (message.traffic && sender.role === 'sensor' && sender.sensor !== null) {
					const previous = this.#traffic.get(sender.sensor);
					// Counters only grow; a late datagram must not move them back.
					if (!previous || message.traffic.sent > previous.sent) {
						this.#traffic.set(sender.sensor, message.traffic);
						changed = true;
					}
				}
				changed = replicas.onRows(sender, message, now).changed || changed;
				if (changed) this.outbox.push({ kind: 'changed' });
				return;
			}
			case 'relayed-rows':
				if (replicas.onRelayed(message, now, () => false).changed) this.outbox.push({ kind: 'changed' });
				return;
			case 'rows-query':
				// A sensor back from a crash asks for rows (a store's only door may have no other replica):
				// we pass on what its owners signed, nothing of our own.
				if (sender.role === 'sensor') replicas.answerQuery(sender, message, null);
				return;
			default:
				this.member.traffic.countDrop('unexpected');
		}
	}

	/** The sensors of the areas this observer follows, found again only when the directory changes. */
	#sensors(): ReadonlySet<string> {
		const directory = this.member.directory;
		// A rejoin replaces the directory and starts its versions again: compare both.
		if (this.#followed.directory === directory && this.#followed.version === directory.version) return this.#followed.ids;
		const ids = new Set<string>();
		for (const member of directory.members()) {
			if (member.role !== 'sensor' || member.sensor === null) continue;
			for (const ledger of this.#ledgers.values()) {
				if (ledger.hasSensor(member.sensor as never)) {
					ids.add(member.id);
					break;
				}
			}
		}
		this.#followed = { directory, version: directory.version, ids };
		return ids;
	}
}
