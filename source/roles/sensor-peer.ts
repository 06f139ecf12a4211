import type { AreaId, SensorId } from '../model/ids.js';
import { sensorId } from '../model/ids.js';
import { DemandMeter } from '../counting/demand-meter.js';
import { loanSize, rebalanceGift } from '../counting/rebalance.js';
import { SensorCounter, type Direction, type Person, type RefusalReason } from '../counting/sensor-counter.js';
import { Router } from '../network/routing.js';
import { wait } from '../runtime/clock.js';
import type { MemberMessage, MemberRecord } from '../protocol/messages.js';
import { rowFromWire, rowToWire } from '../protocol/wire-row.js';
import { MemberNode, type MemberOptions } from './member-node.js';
import { LeaseKeeper } from './lease-keeper.js';
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
	/** Its leases, as holder and as granter (design.md §5). */
	readonly leases: LeaseKeeper;
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
		this.leases = new LeaseKeeper({
			node,
			counter: this.counter,
			sensor: this.sensor,
			save: () => this.#save(true),
			sendRowsTo: (member, areas) => this.#sendRowsTo(member, areas),
			retryPending: () => this.#expirePending(),
			running: () => this.#running,
		});
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
		peer.leases.start(); // before serving: not a permit leaves under a granter the tracker has not confirmed
		node.serve({
			onMessage: (sender, message) => peer.#onMessage(sender, message),
			onJoined: (member) => peer.#sendAllRowsTo(member),
			// Two processes spending one sensor's permits could overshoot: the older one stops.
			onSuperseded: () => void peer.crash(),
			neighbours: () => peer.#neighbours(),
		});
		peer.#cancels.push(clock.setInterval(() => peer.#antiEntropy(), timings.antiEntropyMs));
		peer.#cancels.push(clock.setInterval(() => {
			peer.#rebalance();
			peer.leases.tick();
		}, timings.rebalanceMs));
		peer.leases.tick();
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
			await wait(clock, 10);
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
			for (const [area, change] of attempt.delta) if (change > 0) this.leases.topUp(area, now, false);
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
		for (const area of attempt.leases) this.leases.topUp(area, now, true);
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
				if (this.leases.isMoving(area!)) return `${area} has room, but this sensor's lease there is spent and is moving to another granter (the tracker has not answered yet)`;
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
		const want = Math.max(1, Math.ceil(lender.permits / 2));
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

	#richestSibling(area: AreaId, denied: ReadonlySet<SensorId>): { sensor: SensorId; member: string; permits: number } | null {
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
					const owner = this.#siblingIn(sender, area);
					if (owner === null) continue;
					const merged = this.counter.merge(area, owner, rowFromWire(wire));
					changed = merged || changed;
					if (merged) this.leases.heardFrom(area, owner);
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
				this.leases.topUp(area, this.node.options.clock.now(), lent < size, size);
				return;
			}
			case 'lease-request': {
				const area = message.area as AreaId;
				const holder = this.#siblingIn(sender, area);
				if (holder !== null) this.leases.grant(sender.id, holder, area, message);
				return;
			}
			case 'take-reply':
			case 'assignment':
				if (sender.id === this.node.trackerId) this.leases.fromTracker(message);
				return;
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
			const demand = meter.demand();
			this.leases.setDemand(area, demand.get(this.sensor) ?? 0);
			const admitting = ledger.ring.filter((sensor) => present.has(sensor));
			const gift = rebalanceGift(ledger, this.sensor, admitting, demand);
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
