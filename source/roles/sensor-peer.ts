import type { AreaId, SensorId } from '../model/ids.js';
import { sensorId } from '../model/ids.js';
import { admittingSensors } from '../counting/admitting-sensors.js';
import { DemandMeter } from '../counting/demand-meter.js';
import { loanSize, rebalanceGift } from '../counting/rebalance.js';
import { budgetWanted } from '../counting/lease.js';
import { SensorCounter, type Direction, type Person, type RefusalReason } from '../counting/sensor-counter.js';
import { Router } from '../network/routing.js';
import type { MemberMessage, MemberRecord } from '../protocol/messages.js';
import type { Assignment } from '../counting/row.js';
import { rowFromWire, rowToWire } from '../protocol/wire-row.js';
import { MemberNode, type MemberOptions } from './member-node.js';
import { EMPTY_ROW, mergeRows, type Row } from '../counting/row.js';
import type { PeerJournal, Restored } from '../recovery/peer-journal.js';

/** What an entry or exit came to: the headless answer to `enter` / `exit`. */
export type MoveAnswer =
	| { readonly type: 'entry' | 'exit'; readonly admitted: true; readonly person: Person; readonly delta: Record<string, 1 | -1> }
	| { readonly type: 'entry' | 'exit'; readonly admitted: false; readonly person: Person; readonly reason: RefusalReason; readonly area: string | null; readonly detail: string; readonly delta: Record<string, never> };

export interface PeerStatus {
	readonly type: 'status';
	readonly sensor: string;
	readonly incarnation: number;
	readonly admitted: number;
	readonly refused: number;
	readonly areas: Record<string, { capacity: number; occupancy: number; staff: number; permits: number; budget: number | null; granter: string | null }>;
	/** Members in this peer's directory, itself included: one row per identity. */
	readonly members: number;
	readonly epoch: number;
	/** Failure detection's view of each neighbour, and how many datagrams went to it. */
	readonly neighbours: Record<string, { health: string; silentMs: number; sent: number }>;
}

interface Pending {
	readonly direction: Direction;
	readonly person: Person;
	readonly deadline: number;
	readonly resolve: (answer: MoveAnswer) => void;
}

interface Loan {
	/** The sibling asked last, when, and the ones that said no since the loan began. */
	asked: SensorId;
	at: number;
	readonly denied: Set<SensorId>;
}

/**
 * A sensor peer: decides every entry and exit at its door locally and at once (a local
 * permit, a loan within a bounded wait, or a refusal), sends its rows to the members that
 * care, lends and rebalances permits, and merges what its siblings send.
 */
export class SensorPeer {
	readonly counter: SensorCounter;
	readonly router: Router;
	readonly sensor: SensorId;
	readonly #demand = new Map<AreaId, DemandMeter>();
	readonly #pending: Pending[] = [];
	readonly #loans = new Map<AreaId, Loan>();
	#flushScheduled = false;
	/** Areas whose saved row has not been sent yet. */
	readonly #unsent = new Set<AreaId>();
	readonly #cancels: (() => void)[] = [];
	admitted = 0;
	refused = 0;
	/** The last decision at the gate: what its light shows. */
	lastAnswer: MoveAnswer | null = null;
	/** Resolves when the peer stops deciding: closed, crashed, or replaced by another process. */
	readonly stopped: Promise<void>;
	#markStopped: () => void = () => {};
	#running = true;
	/** While fetching our own rows at start: the members yet to answer. */
	#ownRowsAwaited: Set<string> | null = null;
	/** Lease requests out, per area, and when: a granter that does not answer is asked again. */
	readonly #leaseAsked = new Map<AreaId, number>();
	/** Areas where we spend nothing until the tracker says who grants our lease (at start), and when we asked. */
	readonly #confirming = new Map<AreaId, number>();
	/**
	 * Moves of our lease asked of the tracker, per area: away from a granter that is gone,
	 * or from granting ourselves. Until the tracker has made the move we spend at most
	 * `floor`, the outflow the next granter starts from, and ask again with the same one.
	 */
	readonly #moving = new Map<AreaId, { at: number; readonly gen: number; readonly to: SensorId; readonly floor: number }>();
	/** Takes asked of the tracker, by `area holder`: when, and whether it said no. */
	readonly #takesAsked = new Map<string, { at: number; refused: boolean }>();
	/** The directory's sensors by sensor id, rebuilt when the directory changes. */
	#bySensor: { version: number; members: ReadonlyMap<string, MemberRecord> } = { version: -1, members: new Map() };
	/** How much lease budget to keep ahead, per area: from our own recent demand. */
	readonly #wanted = new Map<AreaId, number>();
	/** When this peer began serving: a sensor never seen since is as good as dead after the liveness bound. */
	#servingSince = 0;

	/** Own rows known to be on disk: the only ones ever sent (a row sent before it is durable could outlive a crash the log does not). */
	readonly #persisted = new Map<AreaId, Row>();

	private constructor(readonly node: MemberNode, readonly journal: PeerJournal | null) {
		const sensor = node.self.sensor;
		if (sensor === null) throw new Error(`account ${node.self.id} has no sensor`);
		this.sensor = sensorId(sensor);
		this.counter = new SensorCounter(node.layout, this.sensor);
		this.router = new Router(node.layout, node.self.id);
		for (const area of this.counter.areas) this.#demand.set(area, new DemandMeter(node.options.timings.demandWindowMs));
		this.stopped = new Promise((resolve) => (this.#markStopped = resolve));
	}

	/**
	 * Joins and starts deciding. With a journal, the peer first takes back its own rows
	 * from its log, then asks the members that hold replicas of its areas for anything the
	 * log lacks (a lost or damaged log), and only then serves (design.md §4).
	 */
	static async start(options: Omit<MemberOptions, 'role' | 'areas'> & { readonly journal?: PeerJournal | null; readonly restored?: Restored | null }): Promise<SensorPeer> {
		const started = options.clock.now();
		const node = await MemberNode.join({ ...options, role: 'sensor', areas: null });
		const peer = new SensorPeer(node, options.journal ?? null);
		const { clock, timings } = node.options;
		for (const [area, row] of options.restored?.rows ?? []) {
			peer.counter.restoreOwn(area, row);
			peer.#persisted.set(area, peer.counter.ownRow(area));
		}
		peer.counter.takeDirty();
		// Spend nothing under a lease until the tracker has said who grants it: a log that
		// was lost or is behind could name a granter the tracker has since replaced.
		for (const area of peer.counter.areas) {
			if (peer.counter.ledger(area)!.assignmentOf(peer.sensor) === null) continue;
			peer.counter.freeze(area, true);
			peer.#confirming.set(area, -Infinity);
		}
		peer.#servingSince = clock.now();
		node.serve({
			onMessage: (sender, message) => peer.#onMessage(sender, message),
			onJoined: (member) => peer.#sendAllRowsTo(member),
			onLeft: () => {},
			// Two processes spending one sensor's permits could overshoot: the older one stops.
			onSuperseded: () => void peer.crash(),
			neighbours: () => peer.#neighbours(),
		});
		peer.#cancels.push(clock.setInterval(() => peer.#antiEntropy(), timings.antiEntropyMs));
		peer.#cancels.push(clock.setInterval(() => peer.#rebalance(), timings.rebalanceMs));
		peer.#cancels.push(clock.setInterval(() => peer.#leases(), timings.rebalanceMs));
		peer.#leases();
		peer.#cancels.push(clock.setInterval(() => peer.#expirePending(), Math.max(5, Math.floor(timings.borrowRetryMs / 2))));
		const fetched = await peer.#fetchOwnRows();
		if (options.restored || fetched > 0 || node.self.incarnation > 1) {
			const restored = options.restored;
			node.options.events({
				type: 'recovery',
				sensor: peer.sensor,
				member: node.self.id,
				incarnation: node.self.incarnation,
				replayed: restored?.replayed ?? 0,
				replayMs: Math.round((restored?.ms ?? 0) * 10) / 10,
				fetched,
				ms: Math.round(clock.now() - started),
				tornTail: restored?.damage?.kind === 'torn',
				damage: restored?.damage ?? null,
				permits: Object.fromEntries([...peer.counter.areas].map((area) => [area, peer.counter.permits(area)])),
			});
		}
		// Everyone who follows our areas hears our rows at once, not at the next anti-entropy.
		for (const member of node.directory.members()) peer.#sendAllRowsTo(member);
		return peer;
	}

	/**
	 * Asks every member holding a replica of our areas for our own rows and merges what
	 * they send, within a bounded wait. Returns how many areas came back ahead of the log.
	 */
	async #fetchOwnRows(): Promise<number> {
		const { clock, timings } = this.node.options;
		const holders = new Set<string>();
		for (const area of this.counter.areas) {
			for (const id of this.router.recipients(area, this.node.directory, this.node.liveness)) holders.add(id);
		}
		if (holders.size === 0) return 0;
		this.#ownRowsAwaited = new Set(holders);
		for (const id of holders) this.node.send(id, { type: 'own-rows-query' });
		const deadline = clock.now() + timings.ownRowsWaitMs;
		let retried = false;
		while (this.#ownRowsAwaited.size > 0 && clock.now() < deadline) {
			await new Promise((resolve) => clock.setTimeout(() => resolve(undefined), 10));
			if (!retried && clock.now() > deadline - timings.ownRowsWaitMs / 2) {
				retried = true; // one more ask for datagrams lost on the way
				for (const id of this.#ownRowsAwaited) this.node.send(id, { type: 'own-rows-query' });
			}
		}
		this.#ownRowsAwaited = null;
		const ahead = this.counter.takeDirty();
		if (ahead.length > 0) await this.#saveAreas(ahead);
		return ahead.length;
	}

	get incarnation(): number {
		return this.node.self.incarnation;
	}

	/** Moves one person through the sensor; resolves once decided (at once, or within the loan wait). */
	move(direction: Direction, person: Person): Promise<MoveAnswer> {
		const now = this.node.options.clock.now();
		return new Promise((settle) => {
			const resolve = (answer: MoveAnswer): void => {
				this.lastAnswer = answer;
				settle(answer);
			};
			const pending: Pending = { direction, person, deadline: now + this.node.options.timings.borrowWaitMs, resolve };
			if (!this.#running) this.#refuse(pending, 'stopped', null);
			else if (!this.#try(pending)) this.#pending.push(pending);
		});
	}

	status(): PeerStatus {
		const areas: PeerStatus['areas'] = {};
		for (const area of this.counter.areas) {
			const ledger = this.counter.ledger(area)!;
			const budget = this.counter.budget(area);
			const granter = ledger.assignmentOf(this.sensor)?.granter ?? null;
			areas[area] = { capacity: ledger.capacity, occupancy: ledger.occupancy(), staff: ledger.staff(), permits: ledger.permitsOf(this.sensor), budget: Number.isFinite(budget) ? budget : null, granter: granter === this.sensor ? null : granter };
		}
		const now = this.node.options.clock.now();
		const neighbours: PeerStatus['neighbours'] = {};
		for (const [id, watched] of this.node.liveness.members()) {
			neighbours[id] = { health: watched.health, silentMs: Math.round(now - watched.lastHeard), sent: this.node.link.sentTo.get(id) ?? 0 };
		}
		return { type: 'status', sensor: this.sensor, incarnation: this.incarnation, admitted: this.admitted, refused: this.refused, areas, members: this.node.directory.size, epoch: this.node.welcome.epoch, neighbours };
	}

	/** Everyone who follows one of our areas: sibling sensors and observers. */
	#neighbours(): Set<string> {
		const ids = new Set<string>();
		for (const area of this.counter.areas) for (const id of this.router.recipients(area, this.node.directory)) ids.add(id);
		return ids;
	}

	/** Decides `pending` if it can be now; false if it waits for a loan. */
	#try(pending: Pending): boolean {
		const attempt = this.counter.attempt(pending.direction, pending.person);
		const type = pending.direction === 'enter' ? 'entry' : 'exit';
		const person: Person = this.counter.sensor.staffOnly ? 'staff' : pending.person;
		if (attempt.kind === 'admitted') {
			this.admitted++;
			const now = this.node.options.clock.now();
			for (const [area, change] of attempt.delta) if (change > 0) this.#topUp(area, now, false);
			// The gate turns green only once the admission is on disk.
			void this.#save().then(
				() => pending.resolve({ type, admitted: true, person, delta: Object.fromEntries(attempt.delta) }),
				// Not on disk, so the gate stays red; the permit stays spent (conservative).
				() => this.#refuse(pending, 'stopped', null),
			);
			return true;
		}
		if (attempt.kind === 'refused') {
			this.#refuse(pending, attempt.reason, attempt.area);
			return true;
		}
		const now = this.node.options.clock.now();
		if (now >= pending.deadline) {
			if (attempt.areas.length > 0) this.#refuse(pending, 'no-permit', attempt.areas[0]!);
			else this.#refuse(pending, 'cut-off', attempt.leases[0] ?? null);
			return true;
		}
		for (const area of attempt.leases) this.#topUp(area, now, true);
		let anyLender = false;
		for (const area of attempt.areas) anyLender = this.#borrow(area, now) || anyLender;
		if (attempt.areas.length > 0 && !anyLender) {
			this.#refuse(pending, 'no-permit', attempt.areas[0]!);
			return true;
		}
		return false;
	}

	#refuse(pending: Pending, reason: RefusalReason, area: AreaId | null): void {
		this.refused++;
		if (area !== null && (reason === 'full' || reason === 'no-permit' || reason === 'cut-off')) {
			this.counter.recordRefusal(area);
			void this.#save().catch(() => {});
		}
		pending.resolve({
			type: pending.direction === 'enter' ? 'entry' : 'exit',
			admitted: false,
			person: this.counter.sensor.staffOnly ? 'staff' : pending.person,
			reason,
			area,
			detail: this.#explain(reason, area),
			delta: {},
		});
	}

	#explain(reason: RefusalReason, area: AreaId | null): string {
		const ledger = area === null ? undefined : this.counter.ledger(area);
		switch (reason) {
			case 'full':
				return `${area} is at capacity (${ledger?.occupancy()}/${ledger?.capacity})`;
			case 'no-permit':
				return `${area} has room (${ledger?.occupancy()}/${ledger?.capacity}) but no sensor lent a permit within ${this.node.options.timings.borrowWaitMs} ms`;
			case 'cut-off': {
				const granter = area === null ? null : ledger?.assignmentOf(this.sensor)?.granter;
				if (this.counter.isFrozen(area!)) return `${area} has room, but this sensor spends nothing there until the tracker confirms who grants its lease`;
				if (this.#moving.has(area!)) return `${area} has room, but this sensor's lease there is spent and is moving to another granter (the tracker has not answered yet)`;
				return `${area} has room, but this sensor's lease there is spent and its granter ${granter} gave no more within ${this.node.options.timings.borrowWaitMs} ms`;
			}
			case 'empty':
				return `nobody is known to be in ${area}`;
			case 'stopped':
				return 'the sensor peer is shutting down';
		}
	}

	/**
	 * Asks the present sibling believed to hold the most permits in `area` for a loan, unless
	 * a request is already out and not yet due for a retry. False when no one can lend.
	 */
	#borrow(area: AreaId, now: number): boolean {
		const loan = this.#loans.get(area);
		if (loan && now - loan.at < this.node.options.timings.borrowRetryMs) return true;
		const lender = this.#richestSibling(area, loan?.denied ?? new Set());
		if (!lender) return false;
		const ledger = this.counter.ledger(area)!;
		const want = Math.max(1, Math.ceil(ledger.permitsOf(lender.sensor) / 2));
		this.node.send(lender.member, { type: 'permit-request', area, want });
		this.node.link.traffic.countUnicast();
		if (loan) {
			loan.asked = lender.sensor;
			loan.at = now;
		} else {
			this.#loans.set(area, { asked: lender.sensor, at: now, denied: new Set() });
		}
		return true;
	}

	#richestSibling(area: AreaId, denied: ReadonlySet<SensorId>): { sensor: SensorId; member: string } | null {
		const ledger = this.counter.ledger(area)!;
		let best: { sensor: SensorId; member: string; permits: number } | null = null;
		for (const member of this.node.directory.members()) {
			if (member.role !== 'sensor' || member.sensor === null || member.id === this.node.self.id || this.node.liveness.isDead(member.id)) continue;
			const sensor = sensorId(member.sensor);
			if (!ledger.hasSensor(sensor) || denied.has(sensor)) continue;
			const permits = ledger.permitsOf(sensor);
			if (permits > 0 && (best === null || permits > best.permits)) best = { sensor, member: member.id, permits };
		}
		return best;
	}

	/** Re-tries waiting moves: a loan may have arrived, or their wait may be over. */
	#expirePending(): void {
		if (this.#pending.length === 0) {
			this.#loans.clear();
			return;
		}
		const waiting = this.#pending.splice(0);
		for (const pending of waiting) if (!this.#try(pending)) this.#pending.push(pending);
		if (this.#pending.length === 0) this.#loans.clear();
	}

	#onMessage(sender: MemberRecord, message: MemberMessage): void {
		switch (message.type) {
			case 'rows': {
				// A peer may only speak for its own sensor (design.md §6): the rows of a
				// datagram are the sender's, and only for areas its sensor counts.
				if (sender.role !== 'sensor' || sender.sensor === null) {
					this.node.link.traffic.countDrop('not-allowed');
					return;
				}
				let changed = false;
				for (const wire of message.rows) {
					const area = wire.a as AreaId;
					if (!this.counter.ledger(area)?.hasSensor(sensorId(sender.sensor))) {
						this.node.link.traffic.countDrop('not-allowed');
						continue;
					}
					const merged = this.counter.merge(area, sensorId(sender.sensor), rowFromWire(wire));
					changed = merged || changed;
					if (merged && this.counter.ledger(area)!.assignmentOf(this.sensor)?.granter === sender.sensor) this.#leaseAsked.delete(area);
				}
				if (changed && this.#pending.length > 0) this.#expirePending();
				return;
			}
			case 'permit-request': {
				const area = message.area as AreaId;
				const borrower = this.#siblingIn(sender, area);
				if (borrower === null) return;
				const size = loanSize(this.counter.permits(area), message.want);
				const lent = this.counter.give(area, borrower, size);
				// The loan reaches the borrower in our row, sent once the row is on disk.
				if (lent > 0) void this.#save(true).catch(() => {});
				// Held but not yet within our lease: stay silent, the borrower asks again shortly.
				else if (size === 0) this.node.send(sender.id, { type: 'permit-denied', area });
				this.node.link.traffic.countUnicast();
				// Our lease held back part of the loan: ask for enough to lend in full next time.
				this.#topUp(area, this.node.options.clock.now(), lent < size, size);
				return;
			}
			case 'lease-request': {
				const area = message.area as AreaId;
				const holder = this.#siblingIn(sender, area);
				if (holder === null) return;
				const changed = this.counter.grant(area, holder, { gen: message.gen, basis: message.basis, outflow: message.out, want: message.want, floor: message.floor });
				// The lease reaches the holder in our row, and only once the row is on disk.
				if (changed) void this.#save(true).then(() => this.#sendRowsTo(sender.id, [area]), () => {});
				else this.#sendRowsTo(sender.id, [area]);
				this.node.link.traffic.countUnicast();
				return;
			}
			case 'take-reply': {
				if (sender.id !== this.node.trackerId) return;
				const area = message.area as AreaId;
				const holder = sensorId(message.holder);
				const key = `${area} ${holder}`;
				if (!message.ok) {
					if (!this.#takesAsked.get(key)?.refused) this.node.options.events({ type: 'reclaim-refused', area, from: holder, reason: message.reason ?? 'refused' });
					this.#takesAsked.set(key, { at: this.node.options.clock.now(), refused: true });
					return;
				}
				this.#takesAsked.delete(key);
				const ledger = this.counter.ledger(area);
				if (!ledger) return;
				const before = ledger.row(this.sensor).taken.get(holder) ?? 0;
				if (message.total <= before) return;
				this.counter.recordTake(area, holder, message.total);
				void this.#save(true).then(() => {
					this.node.options.events({ type: 'reclaim', sensor: this.sensor, area, from: holder, permits: message.total - before, total: message.total, gen: message.gen });
				}, () => {});
				return;
			}
			case 'assignment': {
				if (sender.id !== this.node.trackerId) return;
				const area = message.area as AreaId;
				if (!this.counter.ledger(area)) return;
				const previous = this.counter.ledger(area)!.assignmentOf(this.sensor);
				const assignment: Assignment = { gen: message.gen, granter: sensorId(message.granter), formerTaken: message.formerTaken, floor: message.floor };
				if (message.gen > 0) this.counter.assign(area, assignment);
				// Durable before it takes effect: a restart must not fall back to the former granter.
				void this.#save(true).then(() => {
					this.#leaseAsked.delete(area);
					if (this.#confirming.delete(area)) this.counter.freeze(area, false);
					// Only the move itself ends a move: any other answer may be older than
					// the request still on its way, which the tracker may yet accept.
					const moving = this.#moving.get(area);
					const current = this.counter.ledger(area)!.assignmentOf(this.sensor);
					if (moving && current !== null && current.gen > moving.gen) {
						this.#moving.delete(area);
						this.counter.limit(area, null);
					}
					if (previous && previous.gen < message.gen) {
						this.node.options.events({ type: 'granter', sensor: this.sensor, area, granter: message.granter, gen: message.gen, previous: previous.granter });
					}
					this.#topUp(area, this.node.options.clock.now(), true);
					this.#expirePending();
				}, () => {});
				return;
			}
			case 'own-rows-query': {
				if (sender.sensor === null) return;
				const owner = sensorId(sender.sensor);
				const rows = [...this.counter.areas]
					.filter((area) => this.counter.ledger(area)!.hasSensor(owner))
					.map((area) => rowToWire(area, this.counter.ledger(area)!.row(owner)));
				this.node.send(sender.id, { type: 'own-rows', rows });
				this.node.link.traffic.countUnicast();
				return;
			}
			case 'own-rows': {
				if (!this.#ownRowsAwaited?.delete(sender.id)) return;
				for (const wire of message.rows) this.counter.restoreOwn(wire.a as AreaId, rowFromWire(wire));
				return;
			}
			case 'permit-denied': {
				const loan = this.#loans.get(message.area as AreaId);
				if (loan && sender.sensor !== null) {
					loan.denied.add(sensorId(sender.sensor));
					loan.at = -Infinity; // ask the next one now
					this.#expirePending();
				}
				return;
			}
			default:
				this.node.link.traffic.countDrop('unexpected');
		}
	}

	/** The sender's sensor if it counts `area` with us; else the datagram is dropped and counted. */
	#siblingIn(sender: MemberRecord, area: AreaId): SensorId | null {
		if (sender.sensor === null || !this.counter.ledger(area)?.hasSensor(sensorId(sender.sensor))) {
			this.node.link.traffic.countDrop('not-allowed');
			return null;
		}
		return sensorId(sender.sensor);
	}

	/**
	 * Makes every change to our rows durable (in the journal, if there is one), then
	 * marks them for sending. Resolves once they are on disk; `now` sends without waiting
	 * for the flush window (a loan someone waits for).
	 */
	#save(now = false): Promise<void> {
		return this.#saveAreas(this.counter.takeDirty(), now);
	}

	async #saveAreas(areas: readonly AreaId[], now = false): Promise<void> {
		if (areas.length === 0) return;
		const rows = areas.map((area) => [area, this.counter.ownRow(area)] as const);
		if (this.journal) {
			try {
				await this.journal.write(rows);
			} catch (error) {
				// A peer that cannot make its decisions durable must stop making them.
				this.node.options.events({ type: 'error', message: `the log cannot be written (${(error as Error).message}); this peer stops deciding` });
				void this.crash();
				throw error;
			}
		}
		for (const [area, row] of rows) {
			const previous = this.#persisted.get(area);
			this.#persisted.set(area, previous ? mergeRows(previous, row) : row);
			this.#unsent.add(area);
		}
		if (now) this.#flush();
		else this.#scheduleFlush();
	}

	#scheduleFlush(): void {
		if (this.#flushScheduled) return;
		this.#flushScheduled = true;
		this.node.options.clock.setTimeout(() => this.#flush(), this.node.options.timings.flushMs);
	}

	/** Sends the rows saved since the last flush, one datagram per recipient with all its areas' rows. */
	#flush(): void {
		this.#flushScheduled = false;
		const areas = [...this.#unsent];
		this.#unsent.clear();
		this.#sendRows(areas);
	}

	#antiEntropy(): void {
		this.#sendRows([...this.counter.areas]);
	}

	#sendRows(areas: readonly AreaId[]): void {
		if (areas.length === 0) return;
		const byRecipient = new Map<string, AreaId[]>();
		const directory = this.node.directory;
		for (const area of areas) {
			for (const id of this.router.recipients(area, directory, this.node.liveness)) {
				const list = byRecipient.get(id);
				if (list) list.push(area);
				else byRecipient.set(id, [area]);
			}
		}
		const others = Math.max(0, directory.size - 1);
		this.node.link.traffic.countFiltered(byRecipient.size, others);
		for (const [id, list] of byRecipient) this.#sendRowsTo(id, list);
	}

	#sendAllRowsTo(member: MemberRecord): void {
		const areas = [...this.counter.areas].filter((area) =>
			this.router.recipients(area, this.node.directory).includes(member.id),
		);
		if (areas.length === 0) return;
		this.node.link.traffic.countFiltered(1, Math.max(1, this.node.directory.size - 1));
		this.#sendRowsTo(member.id, areas);
	}

	#sendRowsTo(member: string, areas: readonly AreaId[]): void {
		const { sent, flood } = this.node.link.traffic;
		this.node.send(member, { type: 'rows', rows: areas.map((area) => rowToWire(area, this.#persisted.get(area) ?? EMPTY_ROW)), traffic: { sent, flood } });
	}

	/**
	 * Keeps this sensor's lease ahead of its demand in `area` (counting/lease.ts): asks its
	 * granter for more once less than half of what it wants is left, or at once when a
	 * move waits (`urgent`). A granter that is gone gets replaced through the tracker.
	 */
	#topUp(area: AreaId, now: number, urgent: boolean, extra = 0): void {
		const budget = this.counter.budget(area);
		if (budget === Infinity || this.counter.isFrozen(area) || this.#moving.has(area)) return;
		const want = Math.max(this.#wanted.get(area) ?? budgetWanted(0), extra);
		if (!urgent && (budget >= want / 2 || this.counter.permits(area) <= budget)) return;
		const asked = this.#leaseAsked.get(area);
		if (asked !== undefined && now - asked < this.node.options.timings.borrowRetryMs) return;
		const ask = this.counter.leaseAsk(area, want);
		if (ask === null) return;
		const granter = this.#memberOf(ask.granter);
		if (granter === null || this.node.liveness.isDead(granter.id)) {
			this.#leaveGranter(area, now);
			return;
		}
		const { gen, basis, outflow, floor } = ask.request;
		this.node.send(granter.id, { type: 'lease-request', area, gen, basis: Math.max(0, basis), out: outflow, want, floor });
		this.node.link.traffic.countUnicast();
		this.#leaseAsked.set(area, now);
	}

	/**
	 * The lease duties, every rebalance tick: keep our budgets topped up; move to another
	 * granter when ours is gone (or back from granting ourselves once a sibling is alive);
	 * and, as a granter, take back what dead holders held above their leases.
	 */
	#leases(): void {
		// While logging in again the directory lacks members that are alive: judge nobody gone.
		if (!this.#running || this.node.rejoining) return;
		const now = this.node.options.clock.now();
		const retryMs = this.node.options.timings.handshakeRetryMs;
		for (const area of this.counter.areas) {
			const ledger = this.counter.ledger(area)!;
			const assignment = ledger.assignmentOf(this.sensor);
			const confirming = this.#confirming.get(area);
			const moving = this.#moving.get(area);
			if (assignment === null) {
				// Needs no lease here.
			} else if (confirming !== undefined) {
				if (now - confirming >= retryMs) {
					this.#confirming.set(area, now);
					this.node.send(this.node.trackerId, { type: 'reassign', area, gen: assignment.gen, to: null, floor: 0 });
				}
			} else if (moving) {
				if (now - moving.at >= retryMs) this.#askMove(area, moving.gen, moving.to, moving.floor, now);
			} else if (assignment.granter === this.sensor) {
				// Granting ourselves, nobody could take our permits if we died: hand the role
				// back once a sibling is alive, spending nothing more until the tracker has moved it.
				const next = this.#nextAlive(ledger.ring, this.sensor);
				if (next !== null && now - this.node.lastFromTracker < this.node.options.timings.trackerSilenceMs) {
					this.#askMove(area, assignment.gen, next, ledger.outflowOf(this.sensor), now);
				}
			} else if (this.#gone(assignment.granter, now, false)) {
				this.#leaveGranter(area, now);
			} else {
				this.#topUp(area, now, false);
			}
			for (const holder of ledger.sensors) {
				if (holder === this.sensor || !this.#gone(holder, now, true)) continue;
				const target = this.counter.reclaimable(area, holder);
				if (target === null) continue;
				const key = `${area} ${holder}`;
				const asked = this.#takesAsked.get(key);
				if (asked && now - asked.at < (asked.refused ? 10 * retryMs : retryMs)) continue;
				this.#takesAsked.set(key, { at: now, refused: asked?.refused ?? false });
				this.node.send(this.node.trackerId, { type: 'take', area, holder, gen: target.gen, total: target.total });
			}
		}
	}

	/**
	 * Our granter in `area` is gone: asks the tracker to move our lease to the next live
	 * sibling, or to ourselves if none is left. Until it has, we spend only what the old
	 * granter gave, so that is the floor the next one starts from.
	 */
	#leaveGranter(area: AreaId, now: number): void {
		const ledger = this.counter.ledger(area)!;
		const assignment = ledger.assignmentOf(this.sensor);
		if (assignment === null || assignment.granter === this.sensor || this.#confirming.has(area) || this.#moving.has(area) || this.node.rejoining) return;
		const next = this.#nextAlive(ledger.ring, assignment.granter) ?? this.sensor;
		this.#askMove(area, assignment.gen, next, ledger.capOf(this.sensor), now);
	}

	/** Asks the tracker to move our lease in `area` from generation `gen` to `to`; our outflow stays within `floor` until it has. */
	#askMove(area: AreaId, gen: number, to: SensorId, floor: number, now: number): void {
		this.#moving.set(area, { at: now, gen, to, floor });
		this.counter.limit(area, floor);
		this.node.send(this.node.trackerId, { type: 'reassign', area, gen, to, floor });
	}

	/** The member speaking for `sensor`, if it is in the directory. */
	#memberOf(sensor: SensorId): MemberRecord | null {
		const directory = this.node.directory;
		if (this.#bySensor.version !== directory.version) {
			const members = new Map<string, MemberRecord>();
			for (const member of directory.members()) if (member.role === 'sensor' && member.sensor !== null) members.set(member.sensor, member);
			this.#bySensor = { version: directory.version, members };
		}
		return this.#bySensor.members.get(sensor) ?? null;
	}

	/**
	 * A sensor is gone once failure detection declared it dead, or when it is not a member
	 * (it left, or never joined). Before taking its permits we give one that never joined
	 * since we serve as long as failure detection would: it may be starting too. Moving our
	 * own lease to another granter needs no such wait: a move is always safe.
	 */
	#gone(sensor: SensorId, now: number, grace: boolean): boolean {
		const member = this.#memberOf(sensor);
		if (member !== null) return this.node.liveness.isDead(member.id);
		return !grace || now - this.#servingSince >= this.node.options.timings.liveness.deadAfterMs;
	}

	/** The first sensor after `after` in `ring` that is a live member, ourselves aside. */
	#nextAlive(ring: readonly SensorId[], after: SensorId): SensorId | null {
		const start = ring.indexOf(after);
		for (let step = 1; step <= ring.length; step++) {
			const candidate = ring[(start + step) % ring.length]!;
			if (candidate === this.sensor || candidate === after) continue;
			const member = this.#memberOf(candidate);
			if (member !== null && !this.node.liveness.isDead(member.id)) return candidate;
		}
		return null;
	}

	/** Moves idle permits towards the present siblings where entries happen. */
	#rebalance(): void {
		const now = this.node.options.clock.now();
		const present = new Set<string>();
		for (const member of this.node.directory.members()) if (member.sensor !== null && !this.node.liveness.isDead(member.id)) present.add(member.sensor);
		let gave = false;
		for (const area of this.counter.areas) {
			const ledger = this.counter.ledger(area)!;
			const meter = this.#demand.get(area)!;
			meter.sample(ledger, now);
			this.#wanted.set(area, budgetWanted(meter.demand().get(this.sensor) ?? 0));
			const admitting = admittingSensors(this.node.layout, area).filter((sensor) => present.has(sensor));
			const gift = rebalanceGift(ledger, this.sensor, admitting, meter.demand());
			if (gift && this.counter.give(area, gift.to, gift.count) > 0) gave = true;
		}
		if (gave) void this.#save(true).catch(() => {});
	}

	/** Leaves cleanly: pending moves are refused, the tracker is told. */
	async close(): Promise<void> {
		this.#running = false;
		for (const cancel of this.#cancels.splice(0)) cancel();
		for (const pending of this.#pending.splice(0)) this.#refuse(pending, 'stopped', null);
		await this.#save(true);
		this.#markStopped();
		await this.node.close();
		await this.journal?.close();
	}

	async crash(): Promise<void> {
		this.#running = false;
		for (const cancel of this.#cancels.splice(0)) cancel();
		for (const pending of this.#pending.splice(0)) this.#refuse(pending, 'stopped', null);
		this.#markStopped();
		await this.node.crash();
		await this.journal?.close();
	}
}
