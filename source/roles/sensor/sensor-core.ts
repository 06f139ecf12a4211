import { sensorId, type AreaId, type SensorId } from '../../model/ids.js';
import { DemandMeter } from '../../counting/demand-meter.js';
import { loanSize, rebalanceGift } from '../../counting/rebalance.js';
import { EMPTY_ROW, mergeRows, type Row } from '../../counting/row.js';
import { SensorCounter, type Direction, type Person, type RefusalReason } from '../../counting/sensor-counter.js';
import type { Address } from '../../network/address.js';
import { Router } from '../../network/routing.js';
import type { MemberMessage, MemberRecord, WireRow } from '../../protocol/messages.js';
import { rowToWire } from '../../protocol/wire-row.js';
import type { Restored } from '../../recovery/peer-journal.js';
import { Outbox } from '../../runtime/outbox.js';
import { signRow } from '../../security/row-signature.js';
import { MemberCore, type MemberConfig, type MemberEffect } from '../member/member-core.js';
import { ReplicaKeeper, type RowProof } from '../replica-keeper.js';
import { LeaseKeeper } from './lease-keeper.js';

/** What an entry or exit came to: the headless answer to `enter` / `exit`. */
export type MoveAnswer =
	| { readonly type: 'entry' | 'exit'; readonly admitted: true; readonly person: Person; readonly delta: Record<string, 1 | -1> }
	| { readonly type: 'entry' | 'exit'; readonly admitted: false; readonly person: Person; readonly reason: RefusalReason; readonly area: string | null; readonly detail: string; readonly delta: Record<string, never> };

export interface SensorConfig extends Omit<MemberConfig, 'role' | 'areas'> {
	/** What its log gave back at start (null: no log, or nothing in it). */
	readonly restored: Restored | null;
	/** Whether it has a log: every change of its rows is then made durable (`append`) before it takes effect. */
	readonly journaled: boolean;
}

export type SensorEffect =
	| MemberEffect
	/** Make these rows durable in the log and call `saved`. */
	| { readonly kind: 'append'; readonly ticket: number; readonly rows: readonly (readonly [AreaId, Row])[] }
	/** The gate's answer to move request `request`. */
	| { readonly kind: 'answer'; readonly request: number; readonly answer: MoveAnswer }
	/** Recovered and serving: the gate decides from now on. */
	| { readonly kind: 'ready' }
	/** The log cannot be written: the peer stops deciding, and must stop. */
	| { readonly kind: 'failed'; readonly message: string }
	/** Closed cleanly: its last rows are durable and the tracker was told. */
	| { readonly kind: 'closed' };

type Phase = 'joining' | 'recovering' | 'serving' | 'stopped';

interface Pending {
	readonly request: number;
	readonly direction: Direction;
	readonly person: Person;
	readonly deadline: number;
}

interface Loan {
	/** The siblings asked since the loan began, when the last round went out, and the ones that said no. */
	readonly asked: Set<SensorId>;
	at: number;
	readonly denied: Set<SensorId>;
}

/**
 * Siblings asked at once for a loan: the richest as far as we know, then others — an exit
 * elsewhere gives its door a permit we hear of only with its next row. One answer is
 * enough, and a sibling with nothing to lend says so at once.
 */
const LOAN_FANOUT = 3;

/** A sensor's place in the asking order at `turn`: a cheap hash, the same on every run. */
function rotate(sensor: SensorId, turn: number): number {
	let hash = turn * 2654435761;
	for (let index = 0; index < sensor.length; index++) hash = Math.imul(hash ^ sensor.charCodeAt(index), 16777619);
	return hash >>> 0;
}

interface Save {
	readonly rows: readonly (readonly [AreaId, Row])[];
	readonly urgent: boolean;
	readonly then: ((now: number) => void)[];
	/** Admissions answered green once this save is durable, red if it fails. */
	readonly admissions: { readonly pending: Pending; readonly delta: ReadonlyMap<AreaId, 1 | -1> }[];
}

export interface PeerStatus {
	readonly type: 'status';
	readonly sensor: string;
	readonly incarnation: number;
	readonly admitted: number;
	readonly refused: number;
	readonly areas: Record<string, { capacity: number; occupancy: number; staff: number; permits: number; budget: number | null; granter: string | null; held: number }>;
	/** Members in this peer's directory, itself included: one row per identity. */
	readonly members: number;
	readonly epoch: number;
	/** Failure detection's view of each neighbour, and how many datagrams went to it. */
	readonly neighbours: Record<string, { health: string; silentMs: number; sent: number }>;
	/** Sensors whose rows this replica holds back (design.md §7), and why. */
	readonly flagged: Record<string, Record<string, number>>;
}

/**
 * A sensor peer as a state machine: it decides every entry and exit at its door locally
 * and at once (a local permit, a loan within a bounded wait, or a refusal), makes every
 * change of its rows durable before anyone hears of it, sends its rows to the members
 * that care, lends and rebalances permits, keeps its leases, and checks and merges what
 * its siblings send. A restarted one first takes back its rows from its log and from
 * every replica of its areas, and decides nothing until then.
 */
export class SensorCore {
	readonly outbox = new Outbox<SensorEffect>();
	readonly member: MemberCore;
	#phase: Phase = 'joining';
	// Made once the layout has arrived (onServing).
	#counter: SensorCounter<RowProof> | null = null;
	#router: Router | null = null;
	#replicas: ReplicaKeeper | null = null;
	#leases: LeaseKeeper | null = null;
	readonly #demand = new Map<AreaId, DemandMeter>();
	readonly #pending: Pending[] = [];
	readonly #loans = new Map<AreaId, Loan>();
	/** Turns the order siblings of equal standing are asked in, so that no one is always asked first. */
	#loanTurn = 0;
	/** Own rows known to be on disk: the only ones ever sent (a row sent before it is durable could outlive a crash the log does not). */
	readonly #persisted = new Map<AreaId, Row>();
	/** Areas whose saved row has not been sent yet. */
	readonly #unsent = new Set<AreaId>();
	/** The signed wire form of each persisted row, made once per version. */
	readonly #signed = new Map<AreaId, { readonly row: Row; readonly wire: WireRow }>();
	readonly #saves = new Map<number, Save>();
	#ticket = 0;
	#lastSave: Save | null = null;
	#flushAt = Infinity;
	#lastFlushAt = -Infinity;
	#antiEntropyAt = Infinity;
	#rebalanceAt = Infinity;
	#pendingAt = Infinity;
	#recovery: {
		readonly awaited: Map<string, { got: Set<number>; of: number | null }>;
		retryAt: number;
		deadline: number;
		readonly startedAt: number;
		/** Areas where a replica held more of our own row than our log: what the `recovery` line calls fetched. */
		readonly fetched: Set<AreaId>;
		/** Areas at least one replica has answered for. */
		readonly heardFor: Set<AreaId>;
	} | null = null;
	readonly #startedAt: number;
	admitted = 0;
	refused = 0;
	/** The last decision at the gate: what its light shows. */
	lastAnswer: MoveAnswer | null = null;

	constructor(readonly config: SensorConfig, now: number) {
		this.#startedAt = now;
		this.member = new MemberCore(
			{ ...config, role: 'sensor', areas: null },
			this.outbox,
			{
				onServing: (when) => this.#onServing(when),
				onMessage: (sender, message, when) => this.#onMessage(sender, message, when),
				onJoined: (member) => this.#sendAllRowsTo(member),
				neighbours: () => this.#neighbours(),
			},
			now,
		);
	}

	// ---- what the shell, the console and tests read -----------------------------------

	get counter(): SensorCounter<RowProof> {
		if (!this.#counter) throw new Error('the sensor has not joined yet');
		return this.#counter;
	}

	get router(): Router {
		if (!this.#router) throw new Error('the sensor has not joined yet');
		return this.#router;
	}

	get leases(): LeaseKeeper {
		if (!this.#leases) throw new Error('the sensor has not joined yet');
		return this.#leases;
	}

	get replicas(): ReplicaKeeper {
		if (!this.#replicas) throw new Error('the sensor has not joined yet');
		return this.#replicas;
	}

	get sensor(): SensorId {
		return this.counter.self;
	}

	get phase(): Phase {
		return this.#phase;
	}

	status(now: number): PeerStatus {
		const { counter, member } = this;
		const areas: PeerStatus['areas'] = {};
		for (const area of counter.areas) {
			const ledger = counter.ledger(area)!;
			const budget = counter.budget(area);
			const granter = ledger.assignmentOf(this.sensor)?.granter ?? null;
			areas[area] = { capacity: ledger.capacity, occupancy: ledger.occupancy(), staff: ledger.staff(), permits: ledger.permitsOf(this.sensor), budget: Number.isFinite(budget) ? budget : null, granter: granter === this.sensor ? null : granter, held: [...ledger.pendingOwners()].length };
		}
		const neighbours: PeerStatus['neighbours'] = {};
		for (const [id, watched] of member.liveness.members()) {
			neighbours[id] = { health: watched.health, silentMs: Math.round(now - watched.lastHeard), sent: member.link.sentTo.get(id) ?? 0 };
		}
		const flagged: PeerStatus['flagged'] = {};
		for (const [owner, flag] of this.replicas.flags()) if (flag.since !== null) flagged[owner] = { ...flag.held } as Record<string, number>;
		return { type: 'status', sensor: this.sensor, incarnation: member.self.incarnation, admitted: this.admitted, refused: this.refused, areas, members: member.directory.size, epoch: member.welcome.epoch, neighbours, flagged };
	}

	// ---- inputs ----------------------------------------------------------------------

	receive(bytes: Buffer, from: Address, now: number): void {
		this.member.receive(bytes, from, now);
	}

	tick(now: number): void {
		this.member.tick(now);
		if (this.#phase === 'recovering') this.#recoveryTick(now);
		if (this.#phase !== 'serving' && this.#phase !== 'recovering') return;
		if (now >= this.#flushAt) this.#flush(now);
		if (now >= this.#antiEntropyAt) {
			this.#antiEntropyAt = now + this.config.timings.antiEntropyMs;
			this.#sendRows([...this.counter.areas]);
		}
		if (now >= this.#rebalanceAt) {
			this.#rebalanceAt = now + this.config.timings.rebalanceMs;
			this.#rebalance(now);
			this.leases.tick(now);
			this.replicas.tick(now, [...this.#neighbours()]);
		}
		if (now >= this.#pendingAt) this.#expirePending(now);
	}

	wakeAt(): number {
		if (this.#phase === 'stopped') return Infinity;
		let at = this.member.wakeAt();
		if (this.#phase === 'joining') return at;
		at = Math.min(at, this.#flushAt, this.#antiEntropyAt, this.#rebalanceAt, this.#pendingAt);
		if (this.#recovery) at = Math.min(at, this.#recovery.retryAt, this.#recovery.deadline);
		return at;
	}

	/** Moves one person through the sensor; the answer comes as an `answer` effect (at once, or within the loan wait). */
	move(request: number, direction: Direction, person: Person, now: number): void {
		const pending: Pending = { request, direction, person, deadline: now + this.config.timings.borrowWaitMs };
		if (this.#phase !== 'serving') {
			this.#answer(pending, this.#refusal(pending, 'stopped', null));
			this.refused++;
			return;
		}
		if (!this.#try(pending, now)) {
			this.#pending.push(pending);
			this.#pendingAt = Math.min(this.#pendingAt, now + this.#pendingCheckMs());
		}
	}

	/** A log append asked for by `append` is durable (or failed: the peer stops deciding). */
	saved(ticket: number, ok: boolean, now: number): void {
		const save = this.#saves.get(ticket);
		if (!save) return;
		this.#saves.delete(ticket);
		if (this.#lastSave === save) this.#lastSave = null;
		if (!ok) {
			this.#fail('the log cannot be written; this peer stops deciding', now);
			for (const { pending } of save.admissions) this.#refuse(pending, 'stopped', null, now);
			return;
		}
		this.#onSaved(save, now);
	}

	/** Leaves cleanly: waiting moves are refused, the last rows made durable and sent, the tracker told. */
	close(now: number): void {
		if (this.#phase === 'stopped') {
			this.outbox.push({ kind: 'closed' });
			return;
		}
		const joined = this.#phase !== 'joining';
		this.#phase = 'stopped';
		for (const pending of this.#pending.splice(0)) this.#refuse(pending, 'stopped', null, now);
		if (!joined) {
			this.member.crash();
			this.outbox.push({ kind: 'closed' });
			return;
		}
		this.#save(now, true, (when) => {
			this.#flush(when);
			this.member.close();
			this.outbox.push({ kind: 'closed' });
		});
	}

	/** Stops at once, as kill -9 would: waiting moves are answered red, nothing more is sent. */
	crash(now: number): void {
		this.#phase = 'stopped';
		this.member.crash();
		for (const pending of this.#pending.splice(0)) this.#refuse(pending, 'stopped', null, now);
		for (const save of this.#saves.values()) for (const { pending } of save.admissions) this.#refuse(pending, 'stopped', null, now);
		this.#saves.clear();
	}

	// ---- joining and recovery --------------------------------------------------------

	#onServing(now: number): void {
		const { member } = this;
		const sensor = member.self.sensor;
		if (sensor === null) {
			this.#fail(`account ${member.self.id} has no sensor`, now);
			return;
		}
		this.#counter = new SensorCounter<RowProof>(member.layout, sensorId(sensor));
		this.#router = new Router(member.layout, member.self.id);
		this.#replicas = new ReplicaKeeper(new Map([...this.#counter.areas].map((area) => [area, this.#counter!.ledger(area)!])), member, this.#counter.self);
		this.#leases = new LeaseKeeper({
			member,
			counter: this.#counter,
			sensor: this.#counter.self,
			save: (when, then) => this.#save(when, true, then),
			sendRowsTo: (id, areas) => this.#sendRowsTo(id, areas),
			retryPending: (when) => this.#expirePending(when),
			// While recovering too: the tracker's confirmation of our granter should not wait for it.
			running: () => this.#phase === 'serving' || this.#phase === 'recovering',
		});
		for (const area of this.#counter.areas) this.#demand.set(area, new DemandMeter(this.config.timings.demandWindowMs));
		for (const [area, row] of this.config.restored?.rows ?? []) {
			this.#counter.restoreOwn(area, row);
			this.#persisted.set(area, this.#counter.ownRow(area));
		}
		this.#counter.takeDirty();
		this.#leases.start(now); // before serving: not a permit leaves under a granter the tracker has not confirmed
		this.#phase = 'recovering';
		this.#antiEntropyAt = now + this.config.timings.antiEntropyMs;
		this.#rebalanceAt = now;
		this.#startRecovery(now);
	}

	/**
	 * Asks every member holding a replica of our areas for the newest rows it holds — of
	 * every sensor there, ours included — and waits, within a bound, for all of them: a
	 * restarted sensor then decides on a complete view, on counts at least as fresh as
	 * anything it told anyone before (design.md §4). Members that join meanwhile (after a
	 * tracker restart they come back one by one) are asked too. When our log cannot be
	 * trusted to hold everything we told (damaged, incomplete, or none at all after an
	 * earlier life), we wait for at least one replica of each area, within the join bound.
	 */
	#startRecovery(now: number): void {
		const { ownRowsWaitMs } = this.config.timings;
		this.#recovery = { awaited: new Map(), retryAt: now, deadline: now + ownRowsWaitMs, startedAt: now, fetched: new Set(), heardFor: new Set() };
		this.#recoveryTick(now);
	}

	/** Whether our log may lack rows we told others about: then a replica must answer before we decide. */
	#mustHearReplicas(): boolean {
		const restored = this.config.restored;
		if (restored === null) return this.member.config.lastIncarnation > 0;
		return !restored.complete || restored.damage?.kind === 'corrupt' || restored.damage?.kind === 'missing';
	}

	/**
	 * Whether recovery waits to hear a replica of `area`. Always when our log may lack rows;
	 * after any earlier life, where the area has siblings: our own row is whole, but what
	 * they gave us is in their rows, and deciding without them shows permits below the truth
	 * (even negative) and refuses people there is room for.
	 */
	#shouldHear(area: AreaId, mustHear: boolean): boolean {
		if (mustHear) return true;
		const restored = this.config.restored;
		// What this process knows of a life before it (not the incarnation: a process's first
		// login may be repeated, and a tracker restart gives no new one).
		const earlierLife = this.member.config.lastIncarnation > 0 || (restored !== null && restored.replayed > 0);
		// With nobody holding the area in the directory there is nobody to wait for.
		return earlierLife && (this.counter.ledger(area)?.sensors.length ?? 0) > 1 && this.router.recipients(area, this.member.directory).length > 0;
	}

	#recoveryTick(now: number): void {
		const recovery = this.#recovery;
		if (!recovery) return;
		const { ownRowsWaitMs, joinTimeoutMs } = this.config.timings;
		// Whoever holds a replica of our areas now, including those who joined since we asked.
		const holders = new Set<string>();
		for (const area of this.counter.areas) for (const id of this.router.recipients(area, this.member.directory)) holders.add(id);
		for (const id of holders) {
			if (recovery.awaited.has(id)) continue;
			recovery.awaited.set(id, { got: new Set(), of: null });
			this.member.send(id, { type: 'rows-query' });
		}
		const missing = [...recovery.awaited].filter(([, progress]) => progress.of === null || progress.got.size < progress.of).map(([id]) => id);
		const mustHear = this.#mustHearReplicas();
		// Nobody in the directory yet is not nobody at all: after a tracker restart they log in again one by one.
		const heardEveryArea = [...this.counter.areas].every((area) => recovery.heardFor.has(area) || !this.#shouldHear(area, mustHear));
		const done = missing.length === 0 && recovery.awaited.size > 0 && heardEveryArea;
		if (done) {
			this.#finishRecovery(now);
			return;
		}
		if (now >= recovery.deadline) {
			if (!heardEveryArea && now - recovery.startedAt < joinTimeoutMs) {
				// Deciding now could spend what we spent before: keep asking, within the join bound.
				recovery.deadline = now + ownRowsWaitMs;
			} else {
				if (mustHear && !heardEveryArea) this.outbox.event({ type: 'error', message: 'our log may lack rows we told others, and no replica of some area answered: our counts there may be lower than the truth' });
				this.#finishRecovery(now);
				return;
			}
		}
		if (now >= recovery.retryAt) {
			recovery.retryAt = now + ownRowsWaitMs / 2;
			for (const id of missing) this.member.send(id, { type: 'rows-query' });
		}
	}

	#finishRecovery(now: number): void {
		const recovery = this.#recovery;
		this.#recovery = null;
		const fetched = [...(recovery?.fetched ?? [])];
		const restored = this.config.restored;
		// Rows of ours that the replicas held and our log did not: durable before we decide.
		this.#save(now, false, (when) => {
			if (this.#phase !== 'recovering') return;
			if ((restored !== null && (restored.replayed > 0 || restored.damage !== null)) || fetched.length > 0 || this.member.config.lastIncarnation > 0) {
				this.outbox.event({
					type: 'recovery',
					sensor: this.sensor,
					member: this.member.self.id,
					incarnation: this.member.self.incarnation,
					replayed: restored?.replayed ?? 0,
					replayMs: Math.round((restored?.ms ?? 0) * 10) / 10,
					fetched: fetched.length,
					ms: Math.round(when - this.#startedAt),
					waitedMs: recovery === null ? 0 : Math.round(when - recovery.startedAt),
					tornTail: restored?.damage?.kind === 'torn',
					damage: restored?.damage ?? null,
					complete: restored?.complete ?? true,
					permits: Object.fromEntries([...this.counter.areas].map((area) => [area, this.counter.permits(area)])),
				});
			}
			this.#phase = 'serving';
			// Everyone who follows our areas hears our rows at once, not at the next anti-entropy.
			for (const member of this.member.directory.members()) this.#sendAllRowsTo(member);
			this.outbox.push({ kind: 'ready' });
		});
	}

	// ---- the gate --------------------------------------------------------------------

	/** Decides `pending` if it can be now; false if it waits for a loan or a lease. */
	#try(pending: Pending, now: number): boolean {
		const { counter } = this;
		const attempt = counter.attempt(pending.direction, pending.person);
		if (attempt.kind === 'admitted') {
			for (const [area, change] of attempt.delta) if (change > 0) this.leases.topUp(area, now, false);
			// The gate turns green only once the admission is on disk.
			this.#save(now, false, undefined, { pending, delta: attempt.delta });
			return true;
		}
		if (attempt.kind === 'refused') {
			// Full as far as we know; but the place an exit made at a sibling reaches us only
			// with its row. Ask before saying so: a sibling holding a permit means there is room.
			if (attempt.reason === 'full' && attempt.area !== null && now < pending.deadline && this.#borrow(attempt.area, now, true)) return false;
			this.#refuse(pending, attempt.reason, attempt.area, now);
			return true;
		}
		if (now >= pending.deadline) {
			if (attempt.areas.length > 0) this.#refuse(pending, 'no-permit', attempt.areas[0]!, now);
			else this.#refuse(pending, 'cut-off', attempt.leases[0] ?? null, now);
			return true;
		}
		for (const area of attempt.leases) this.leases.topUp(area, now, true);
		let anyLender = false;
		for (const area of attempt.areas) anyLender = this.#borrow(area, now) || anyLender;
		if (attempt.areas.length > 0 && !anyLender) {
			this.#refuse(pending, 'no-permit', attempt.areas[0]!, now);
			return true;
		}
		return false;
	}

	#refuse(pending: Pending, reason: RefusalReason, area: AreaId | null, now: number): void {
		this.refused++;
		if (area !== null && this.#counter && (reason === 'full' || reason === 'no-permit' || reason === 'cut-off')) {
			this.#counter.recordRefusal(area);
			this.#save(now, false);
		}
		this.#answer(pending, this.#refusal(pending, reason, area));
	}

	#refusal(pending: Pending, reason: RefusalReason, area: AreaId | null): MoveAnswer {
		return {
			type: pending.direction === 'enter' ? 'entry' : 'exit',
			admitted: false,
			person: this.#counter?.sensor.staffOnly ? 'staff' : pending.person,
			reason,
			area,
			detail: this.#explain(reason, area),
			delta: {},
		};
	}

	#answer(pending: Pending, answer: MoveAnswer): void {
		this.lastAnswer = answer;
		this.outbox.push({ kind: 'answer', request: pending.request, answer });
	}

	#explain(reason: RefusalReason, area: AreaId | null): string {
		const ledger = area === null ? undefined : this.#counter?.ledger(area);
		const { borrowWaitMs } = this.config.timings;
		switch (reason) {
			case 'full':
				return `${area} is at capacity (${ledger?.occupancy()}/${ledger?.capacity})`;
			case 'no-permit':
				return `${area} has room (${ledger?.occupancy()}/${ledger?.capacity}) but no sensor lent a permit within ${borrowWaitMs} ms`;
			case 'cut-off': {
				const granter = area === null ? null : ledger?.assignmentOf(this.sensor)?.granter;
				if (this.counter.isFrozen(area!)) return `${area} has room, but this sensor spends nothing there until the tracker confirms who grants its lease`;
				if (this.leases.isMoving(area!)) return `${area} has room, but this sensor's lease there is spent and is moving to another granter (the tracker has not answered yet)`;
				return `${area} has room, but this sensor's lease there is spent and its granter ${granter} gave no more within ${borrowWaitMs} ms`;
			}
			case 'stopped':
				return this.#phase === 'joining' || this.#phase === 'recovering' ? 'the sensor peer is still starting' : 'the sensor peer is shutting down';
		}
	}

	/**
	 * Asks siblings of `area` for a loan, LOAN_FANOUT at a time: the richest as far as we
	 * know first, then any other present one. A new round goes out when every sibling
	 * asked has said no, or borrowRetryMs after the last. False once every present
	 * sibling has said no, or none is present: nobody can lend.
	 */
	#borrow(area: AreaId, now: number, blind = false): boolean {
		let loan = this.#loans.get(area);
		if (!loan) this.#loans.set(area, (loan = { asked: new Set(), at: -Infinity, denied: new Set() }));
		const waiting = [...loan.asked].some((sensor) => !loan.denied.has(sensor));
		if (waiting && now - loan.at < this.config.timings.borrowRetryMs) return true;
		const lenders = this.#lenders(area, loan.denied, blind).slice(0, LOAN_FANOUT);
		if (lenders.length === 0) return false;
		for (const lender of lenders) {
			this.member.send(lender.member, { type: 'permit-request', area, want: Math.max(1, Math.ceil(lender.permits / 2)) });
			this.member.traffic.countUnicast();
			loan.asked.add(lender.sensor);
		}
		loan.at = now;
		return true;
	}

	/**
	 * Present siblings of `area` that may hold permits and have not said no: the richest as
	 * far as we know first, equals in an order that turns with every call. `blind`: also
	 * those we believe hold none (our view of them may be behind).
	 */
	#lenders(area: AreaId, denied: ReadonlySet<SensorId>, blind: boolean): { sensor: SensorId; member: string; permits: number }[] {
		const ledger = this.counter.ledger(area)!;
		const turn = this.#loanTurn++;
		const lenders: { sensor: SensorId; member: string; permits: number; order: number }[] = [];
		for (const member of this.member.directory.members()) {
			if (member.role !== 'sensor' || member.sensor === null || member.id === this.member.self.id || this.member.liveness.isDead(member.id)) continue;
			const sensor = sensorId(member.sensor);
			if (!ledger.ring.has(sensor) || denied.has(sensor)) continue;
			const permits = ledger.permitsOf(sensor);
			if (permits > 0 || blind) lenders.push({ sensor, member: member.id, permits, order: rotate(sensor, turn) });
		}
		// Richest first; among equals, a different order each call spreads the asking.
		return lenders.sort((a, b) => b.permits - a.permits || a.order - b.order);
	}

	/** Re-tries waiting moves: a loan may have arrived, or their wait may be over. */
	#expirePending(now: number): void {
		this.#pendingAt = Infinity;
		if (this.#pending.length === 0) {
			this.#loans.clear();
			return;
		}
		const waiting = this.#pending.splice(0);
		for (const pending of waiting) if (!this.#try(pending, now)) this.#pending.push(pending);
		if (this.#pending.length === 0) this.#loans.clear();
		else this.#pendingAt = now + this.#pendingCheckMs();
	}

	#pendingCheckMs(): number {
		return Math.max(5, Math.floor(this.config.timings.borrowRetryMs / 2));
	}

	// ---- messages from members -----------------------------------------------------

	#onMessage(sender: MemberRecord, message: MemberMessage, now: number): void {
		if (!this.#counter) return;
		const counter = this.#counter;
		switch (message.type) {
			case 'rows': {
				const budgets = new Map([...counter.areas].map((area) => [area, counter.budget(area)]));
				const received = this.replicas.onRows(sender, message, now);
				for (const [area, owner] of received.accepted) this.leases.heardFrom(area, owner, budgets.get(area) ?? 0);
				if (received.changed && this.#pending.length > 0) this.#expirePending(now);
				return;
			}
			case 'relayed-rows': {
				const received = this.replicas.onRelayed(message, now, (area, row) => {
					const grew = counter.restoreOwn(area, row);
					if (grew) this.#recovery?.fetched.add(area);
					return grew;
				});
				this.#recovered(sender, message.part);
				// Rows of ours newer than what we had: we came back behind; durable at once.
				if (this.#phase === 'serving') this.#save(now, false);
				if (received.changed && this.#pending.length > 0) this.#expirePending(now);
				return;
			}
			case 'rows-query':
				this.replicas.answerQuery(sender, message, this.member.self);
				return;
			case 'permit-request': {
				const area = message.area as AreaId;
				const borrower = this.#siblingIn(sender, area);
				if (borrower === null) return;
				if (!counter.ledger(area)!.ring.has(borrower)) {
					// A staff entrance may hold no permits: it has no business asking.
					this.member.traffic.countDrop('not-allowed');
					return;
				}
				const size = loanSize(counter.permits(area), message.want);
				const lent = this.#phase === 'serving' ? counter.give(area, borrower, size) : 0;
				// The loan reaches the borrower in our row, sent once the row is on disk.
				if (lent > 0) this.#save(now, true);
				// Held but not yet within our lease: stay silent, the borrower asks again shortly.
				else if (size === 0) this.member.send(sender.id, { type: 'permit-denied', area });
				this.member.traffic.countUnicast();
				// Our lease held back part of the loan: ask for enough to lend in full next time.
				this.leases.topUp(area, now, lent < size, size);
				return;
			}
			case 'lease-request': {
				const area = message.area as AreaId;
				const holder = this.#siblingIn(sender, area);
				if (holder !== null) this.leases.grant(sender.id, holder, area, message, now);
				return;
			}
			case 'take-reply':
			case 'assignment':
				if (sender.id === this.member.trackerId) this.leases.fromTracker(message, now);
				return;
			case 'permit-denied': {
				const loan = this.#loans.get(message.area as AreaId);
				const sensor = sender.sensor === null ? null : sensorId(sender.sensor);
				// Only a sibling we asked can say no: anyone else's "no" would hurry a refusal.
				if (loan && sensor !== null && loan.asked.has(sensor) && !loan.denied.has(sensor)) {
					loan.denied.add(sensor);
					// Everyone asked said no: the next round (or the refusal) need not wait.
					if ([...loan.asked].every((asked) => loan.denied.has(asked))) loan.at = -Infinity;
					this.#expirePending(now);
				}
				return;
			}
			default:
				this.member.traffic.countDrop('unexpected');
		}
	}

	/** A part of a relayed answer arrived while recovering. */
	#recovered(from: MemberRecord, [index, of]: readonly [number, number]): void {
		const recovery = this.#recovery;
		const progress = recovery?.awaited.get(from.id);
		if (!recovery || !progress) return;
		progress.of = of;
		progress.got.add(index);
		for (const area of this.counter.areas) if (this.router.recipients(area, this.member.directory).includes(from.id)) recovery.heardFor.add(area);
	}

	/** The sender's sensor if it counts `area` with us; else the datagram is dropped and counted. */
	#siblingIn(sender: MemberRecord, area: AreaId): SensorId | null {
		if (sender.sensor === null || !this.#counter?.ledger(area)?.hasSensor(sensorId(sender.sensor))) {
			this.member.traffic.countDrop('not-allowed');
			return null;
		}
		return sensorId(sender.sensor);
	}

	// ---- our rows: durable first, then sent --------------------------------------------

	/**
	 * Makes every change to our rows durable (in the log, if there is one), then marks them
	 * for sending, then runs `then`; an admission is answered green at that point. `urgent`
	 * sends without waiting for the flush window (a loan someone waits for).
	 */
	#save(now: number, urgent: boolean, then?: (now: number) => void, admission?: Save['admissions'][number]): void {
		this.#saveAreas(this.#counter?.takeDirty() ?? [], now, urgent, then, admission);
	}

	#saveAreas(areas: readonly AreaId[], now: number, urgent: boolean, then?: (now: number) => void, admission?: Save['admissions'][number]): void {
		if (areas.length === 0) {
			// Nothing new: whatever it waits for is in the save already under way, if any.
			const last = this.#lastSave;
			if (last) {
				if (then) last.then.push(then);
				if (admission) last.admissions.push(admission);
				return;
			}
			if (admission) this.#admit(admission);
			then?.(now);
			return;
		}
		const save: Save = { rows: areas.map((area) => [area, this.counter.ownRow(area)] as const), urgent, then: then ? [then] : [], admissions: admission ? [admission] : [] };
		if (!this.config.journaled) {
			this.#onSaved(save, now);
			return;
		}
		const ticket = ++this.#ticket;
		this.#saves.set(ticket, save);
		this.#lastSave = save;
		this.outbox.push({ kind: 'append', ticket, rows: save.rows });
	}

	#onSaved(save: Save, now: number): void {
		for (const [area, row] of save.rows) {
			const previous = this.#persisted.get(area);
			this.#persisted.set(area, previous ? mergeRows(previous, row) : row);
			this.#unsent.add(area);
		}
		if (save.urgent) this.#flush(now);
		else this.#scheduleFlush(now);
		for (const admission of save.admissions) this.#admit(admission);
		for (const then of save.then) then(now);
	}

	#admit({ pending, delta }: Save['admissions'][number]): void {
		this.admitted++;
		const person: Person = this.counter.sensor.staffOnly ? 'staff' : pending.person;
		this.#answer(pending, { type: pending.direction === 'enter' ? 'entry' : 'exit', admitted: true, person, delta: Object.fromEntries(delta) });
	}

	#fail(message: string, now: number): void {
		// Closing already (its last save failed): the shell still hears of it, and stops.
		if (this.#phase === 'stopped') {
			this.outbox.event({ type: 'error', message });
			this.outbox.push({ kind: 'failed', message });
			return;
		}
		this.#phase = 'stopped';
		this.outbox.event({ type: 'error', message });
		for (const pending of this.#pending.splice(0)) this.#refuse(pending, 'stopped', null, now);
		this.member.crash();
		this.outbox.push({ kind: 'failed', message });
	}

	#scheduleFlush(now: number): void {
		if (this.#flushAt !== Infinity) return;
		const { flushMs, minFlushIntervalMs } = this.config.timings;
		this.#flushAt = Math.max(now + flushMs, this.#lastFlushAt + minFlushIntervalMs);
	}

	/** Sends the rows saved since the last flush, one datagram per recipient with all its areas' rows. */
	#flush(now: number): void {
		this.#flushAt = Infinity;
		this.#lastFlushAt = now;
		const areas = [...this.#unsent];
		this.#unsent.clear();
		this.#sendRows(areas);
	}

	#sendRows(areas: readonly AreaId[]): void {
		if (areas.length === 0 || !this.#router) return;
		const byRecipient = new Map<string, AreaId[]>();
		const directory = this.member.directory;
		for (const area of areas) {
			for (const id of this.router.recipients(area, directory, this.member.liveness)) {
				const list = byRecipient.get(id);
				if (list) list.push(area);
				else byRecipient.set(id, [area]);
			}
		}
		this.member.traffic.countFiltered(byRecipient.size, Math.max(0, directory.size - 1));
		for (const [id, list] of byRecipient) this.#sendRowsTo(id, list);
	}

	#sendAllRowsTo(member: MemberRecord): void {
		if (!this.#router || this.#phase === 'joining' || this.#phase === 'stopped') return;
		const areas = [...this.counter.areas].filter((area) => this.router.recipients(area, this.member.directory).includes(member.id));
		if (areas.length === 0) return;
		this.member.traffic.countFiltered(1, Math.max(1, this.member.directory.size - 1));
		this.#sendRowsTo(member.id, areas);
	}

	#sendRowsTo(member: string, areas: readonly AreaId[]): void {
		const { sent, flood } = this.member.traffic;
		this.member.send(member, { type: 'rows', rows: areas.map((area) => this.#signedRow(area)), traffic: { sent, flood } });
	}

	/** Our persisted row of `area`, signed: once per version, kept as our proof for relays. */
	#signedRow(area: AreaId): WireRow {
		const row = this.#persisted.get(area) ?? EMPTY_ROW;
		const cached = this.#signed.get(area);
		if (cached?.row === row) return cached.wire;
		const { member } = this;
		const wire = rowToWire(area, row, signRow(this.config.identity.signPrivate, this.sensor, area, row));
		this.#signed.set(area, { row, wire });
		this.counter.ledger(area)!.prove(this.sensor, { wire, signer: member.self });
		return wire;
	}

	/** Everyone who follows one of our areas: sibling sensors and observers. */
	#neighbours(): Set<string> {
		const ids = new Set<string>();
		if (!this.#router) return ids;
		for (const area of this.counter.areas) for (const id of this.router.recipients(area, this.member.directory)) ids.add(id);
		return ids;
	}

	/** Moves idle permits towards the present siblings where entries happen. */
	#rebalance(now: number): void {
		if (this.#phase !== 'serving') return;
		const present = new Set<string>();
		for (const member of this.member.directory.members()) if (member.sensor !== null && !this.member.liveness.isDead(member.id)) present.add(member.sensor);
		let gave = false;
		for (const area of this.counter.areas) {
			const ledger = this.counter.ledger(area)!;
			const meter = this.#demand.get(area)!;
			meter.sample(ledger, now);
			const demand = meter.demand();
			this.leases.setDemand(area, demand.get(this.sensor) ?? 0);
			const admitting = ledger.ringOrder.filter((sensor) => present.has(sensor));
			const gift = rebalanceGift(ledger, this.sensor, admitting, demand);
			if (gift && this.counter.give(area, gift.to, gift.count) > 0) gave = true;
		}
		if (gave) this.#save(now, true);
	}
}
