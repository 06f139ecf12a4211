import type { AreaId, SensorId } from '../../model/ids.js';
import { sensorId } from '../../model/ids.js';
import { budgetWanted } from '../../counting/lease.js';
import type { Assignment } from '../../counting/row.js';
import type { SensorCounter } from '../../counting/sensor-counter.js';
import type { MemberMessage, MemberRecord } from '../../protocol/messages.js';
import type { MemberCore } from '../member/member-core.js';

/** What the lease keeper needs of the sensor it works for. */
export interface LeaseHost {
	readonly member: MemberCore;
	readonly counter: SensorCounter<unknown>;
	readonly sensor: SensorId;
	/** Makes our changed rows durable and sends them now; `then` runs once they are (never if the log fails). */
	save(now: number, then?: (now: number) => void): void;
	/** Sends our saved rows of `areas` to one member. */
	sendRowsTo(member: string, areas: readonly AreaId[]): void;
	/** Tries again the moves waiting at the gate. */
	retryPending(now: number): void;
	running(): boolean;
}

type LeaseRequestMessage = Extract<MemberMessage, { type: 'lease-request' }>;
type TrackerAnswer = Extract<MemberMessage, { type: 'take-reply' | 'assignment' }>;

/**
 * A sensor peer's lease duties (counting/lease.ts, docs/design.md §5), as holder and as
 * granter: keep our budgets ahead of demand; grant our holders theirs; move our lease when
 * our granter is gone — or withholds leases while answering pings, which costs us as much
 * — or back from granting ourselves; take back, with the tracker's say-so, what a dead
 * holder held above its lease. The rules are in counting/; this is the part with
 * messages and time, which it is given.
 */
export class LeaseKeeper {
	/** Lease requests out, per area, and when: a granter that does not answer is asked again. */
	readonly #asked = new Map<AreaId, number>();
	/** Requests to our granter in a row that brought no raise: too many, and we move away from it. */
	readonly #unanswered = new Map<AreaId, number>();
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
	#bySensor: { directory: unknown; version: number; members: ReadonlyMap<string, MemberRecord> } = { directory: null, version: -1, members: new Map() };
	/** How much lease budget to keep ahead, per area: from our own recent demand. */
	readonly #wanted = new Map<AreaId, number>();
	/** When we began serving: a sensor never seen since is as good as dead after the liveness bound. */
	#servingSince = 0;

	constructor(readonly host: LeaseHost) {}

	/**
	 * Spends nothing under a lease until the tracker has said who grants it: a log that was
	 * lost or is behind could name a granter the tracker has since replaced.
	 */
	start(now: number): void {
		const { counter, sensor } = this.host;
		for (const area of counter.areas) {
			if (counter.ledger(area)!.assignmentOf(sensor) === null) continue;
			counter.freeze(area, true);
			this.#confirming.set(area, -Infinity);
		}
		this.#servingSince = now;
	}

	/** How much budget to keep ahead in `area`, from our demand there. */
	setDemand(area: AreaId, demand: number): void {
		this.#wanted.set(area, budgetWanted(demand));
	}

	isMoving(area: AreaId): boolean {
		return this.#moving.has(area);
	}

	/** A row of ours from `granter` was counted: any lease it carries answers our request. */
	heardFrom(area: AreaId, granter: SensorId, budgetBefore: number): void {
		if (this.host.counter.ledger(area)!.assignmentOf(this.host.sensor)?.granter !== granter) return;
		this.#asked.delete(area);
		if (this.host.counter.budget(area) > budgetBefore) this.#unanswered.delete(area);
	}

	/**
	 * Keeps our lease ahead of our demand in `area`: asks our granter for more once less
	 * than half of what we want is left, or at once when a move waits (`urgent`). A granter
	 * that is gone, or keeps leaving our requests unanswered, gets replaced through the tracker.
	 */
	topUp(area: AreaId, now: number, urgent: boolean, extra = 0): void {
		const { counter, member } = this.host;
		const budget = counter.budget(area);
		if (budget === Infinity || counter.isFrozen(area) || this.#moving.has(area)) return;
		const want = Math.max(this.#wanted.get(area) ?? budgetWanted(0), extra);
		if (!urgent && (budget >= want / 2 || counter.permits(area) <= budget)) return;
		const asked = this.#asked.get(area);
		if (asked !== undefined && now - asked < member.config.timings.borrowRetryMs) return;
		const ask = counter.leaseAsk(area, want);
		if (ask === null) return;
		const granter = this.#memberOf(ask.granter);
		if (granter === null || member.liveness.isDead(granter.id)) {
			// A move waits: leave a granter that is not there at once. Otherwise give one
			// that has not joined yet the time failure detection would (it may be starting too).
			if (urgent || this.#gone(ask.granter, now)) this.#leaveGranter(area, now);
			return;
		}
		const unanswered = this.#unanswered.get(area) ?? 0;
		if (unanswered >= member.config.timings.unansweredLeaseRequests) {
			// It answers pings but not us: as good as gone for our lease (design.md §7).
			member.out.event({ type: 'granter-unresponsive', sensor: this.host.sensor, area, granter: ask.granter, requests: unanswered });
			this.#unanswered.delete(area);
			this.#leaveGranter(area, now);
			return;
		}
		this.#unanswered.set(area, unanswered + 1);
		const { gen, outflow, floor } = ask.request;
		member.send(granter.id, { type: 'lease-request', area, gen, out: outflow, want, floor });
		member.traffic.countUnicast();
		this.#asked.set(area, now);
	}

	/** As `holder`'s granter: raises its lease; it reaches the holder in our row, and only once the row is on disk. */
	grant(member: string, holder: SensorId, area: AreaId, message: LeaseRequestMessage, now: number): void {
		const changed = this.host.counter.grant(area, holder, { gen: message.gen, outflow: message.out, want: message.want, floor: message.floor });
		if (changed) this.host.save(now, () => this.host.sendRowsTo(member, [area]));
		else this.host.sendRowsTo(member, [area]);
		this.host.member.traffic.countUnicast();
	}

	/** The tracker's answers: a take approved or refused, who grants our lease now. */
	fromTracker(message: TrackerAnswer, now: number): void {
		if (message.type === 'take-reply') this.#onTakeReply(message, now);
		else this.#onAssignment(message, now);
	}

	/**
	 * The lease duties, every rebalance tick: keep our budgets topped up; move to another
	 * granter when ours is gone (or back from granting ourselves once a sibling is alive);
	 * and, as a granter, take back what dead holders held above their leases.
	 */
	tick(now: number): void {
		const { counter, sensor, member } = this.host;
		// While logging in again the directory lacks members that are alive: judge nobody gone.
		if (!this.host.running() || member.rejoining) return;
		const retryMs = member.config.timings.handshakeRetryMs;
		for (const area of counter.areas) {
			const ledger = counter.ledger(area)!;
			const assignment = ledger.assignmentOf(sensor);
			const confirming = this.#confirming.get(area);
			const moving = this.#moving.get(area);
			if (assignment === null) {
				// Needs no lease here.
			} else if (confirming !== undefined) {
				if (now - confirming >= retryMs) {
					this.#confirming.set(area, now);
					member.send(member.trackerId, { type: 'reassign', area, gen: assignment.gen, to: null, floor: 0 });
				}
			} else if (moving) {
				if (now - moving.at >= retryMs) this.#askMove(area, moving.gen, moving.to, moving.floor, now);
			} else if (assignment.granter === sensor) {
				// Granting ourselves, nobody could take our permits if we died: hand the role
				// back once a sibling is alive. The floor keeps a budget of what we want, which
				// we may still spend should the tracker go silent before it has moved the role.
				const next = this.#nextAlive(ledger.ringOrder, sensor);
				if (next !== null && now - member.lastFromTracker < member.config.timings.trackerSilenceMs) {
					const floor = ledger.outflowOf(sensor) + (this.#wanted.get(area) ?? budgetWanted(0));
					this.#askMove(area, assignment.gen, next, floor, now);
				}
			} else if (this.#gone(assignment.granter, now)) {
				this.#leaveGranter(area, now);
			} else {
				this.topUp(area, now, false);
			}
			for (const holder of ledger.sensors) {
				if (holder === sensor || !this.#gone(holder, now)) continue;
				const target = counter.reclaimable(area, holder);
				if (target === null) continue;
				const key = `${area} ${holder}`;
				const asked = this.#takesAsked.get(key);
				if (asked && now - asked.at < (asked.refused ? 10 * retryMs : retryMs)) continue;
				this.#takesAsked.set(key, { at: now, refused: asked?.refused ?? false });
				member.send(member.trackerId, { type: 'take', area, holder, gen: target.gen, total: target.total });
			}
		}
	}

	#onTakeReply(message: Extract<TrackerAnswer, { type: 'take-reply' }>, now: number): void {
		const { counter, sensor, member } = this.host;
		const area = message.area as AreaId;
		const holder = sensorId(message.holder);
		const key = `${area} ${holder}`;
		if (!message.ok) {
			if (!this.#takesAsked.get(key)?.refused) member.out.event({ type: 'reclaim-refused', area, from: holder, reason: message.reason ?? 'refused' });
			this.#takesAsked.set(key, { at: now, refused: true });
			return;
		}
		this.#takesAsked.delete(key);
		const ledger = counter.ledger(area);
		if (!ledger) return;
		const before = ledger.row(sensor).taken.get(holder) ?? 0;
		if (message.total <= before) return;
		counter.recordTake(area, holder, message.total);
		this.host.save(now, () => {
			member.out.event({ type: 'reclaim', sensor, area, from: holder, permits: message.total - before, total: message.total, gen: message.gen });
		});
	}

	#onAssignment(message: Extract<TrackerAnswer, { type: 'assignment' }>, now: number): void {
		const { counter, sensor, member } = this.host;
		const area = message.area as AreaId;
		const ledger = counter.ledger(area);
		if (!ledger) return;
		const previous = ledger.assignmentOf(sensor);
		const assignment: Assignment = { gen: message.gen, granter: sensorId(message.granter), formerTaken: message.formerTaken, granterTaken: message.granterTaken, floor: message.floor, sig: message.sig };
		if (message.gen > 0) counter.assign(area, assignment);
		// Durable before it takes effect: a restart must not fall back to the former granter.
		this.host.save(now, (when) => {
			this.#asked.delete(area);
			this.#unanswered.delete(area);
			if (this.#confirming.delete(area)) counter.freeze(area, false);
			// Only the move itself ends a move: any other answer may be older than the
			// request still on its way, which the tracker may yet accept.
			const moving = this.#moving.get(area);
			const current = ledger.assignmentOf(sensor);
			if (moving && current !== null && current.gen > moving.gen) {
				this.#moving.delete(area);
				counter.limit(area, null);
			}
			if (previous && previous.gen < message.gen) {
				member.out.event({ type: 'granter', sensor, area, granter: message.granter, gen: message.gen, previous: previous.granter });
			}
			// A move waiting at the gate asks at once (urgent) when it is tried again.
			this.topUp(area, when, false);
			this.host.retryPending(when);
		});
	}

	/**
	 * Our granter in `area` is gone: asks the tracker to move our lease to the next live
	 * sibling, or to ourselves if none is left. Until it has, we spend only what the old
	 * granter gave, so that is the floor the next one starts from.
	 */
	#leaveGranter(area: AreaId, now: number): void {
		const { counter, sensor, member } = this.host;
		const ledger = counter.ledger(area)!;
		const assignment = ledger.assignmentOf(sensor);
		if (assignment === null || assignment.granter === sensor || this.#confirming.has(area) || this.#moving.has(area) || member.rejoining) return;
		const next = this.#nextAlive(ledger.ringOrder, assignment.granter) ?? sensor;
		this.#askMove(area, assignment.gen, next, ledger.capOf(sensor), now);
	}

	/** Asks the tracker to move our lease in `area` from generation `gen` to `to`; our outflow stays within `floor` until it has. */
	#askMove(area: AreaId, gen: number, to: SensorId, floor: number, now: number): void {
		this.#moving.set(area, { at: now, gen, to, floor });
		this.host.counter.limit(area, floor);
		this.host.member.send(this.host.member.trackerId, { type: 'reassign', area, gen, to, floor });
	}

	/** The member speaking for `sensor`, if it is in the directory. */
	#memberOf(sensor: SensorId): MemberRecord | null {
		const directory = this.host.member.directory;
		// A rejoin replaces the directory and starts its versions again: compare both.
		if (this.#bySensor.directory !== directory || this.#bySensor.version !== directory.version) {
			const members = new Map<string, MemberRecord>();
			for (const member of directory.members()) if (member.role === 'sensor' && member.sensor !== null) members.set(member.sensor, member);
			this.#bySensor = { directory, version: directory.version, members };
		}
		return this.#bySensor.members.get(sensor) ?? null;
	}

	/**
	 * A sensor is gone once failure detection declared it dead, or when it is not a member
	 * (it left, was revoked, or never joined). One that never joined since we serve gets as
	 * long as failure detection would: sensors started together join one after the other.
	 */
	#gone(sensor: SensorId, now: number): boolean {
		const member = this.#memberOf(sensor);
		if (member !== null) return this.host.member.liveness.isDead(member.id);
		return now - this.#servingSince >= this.host.member.config.timings.liveness.deadAfterMs;
	}

	/** The first sensor after `after` in `ring` that is a live member, ourselves aside. */
	#nextAlive(ring: readonly SensorId[], after: SensorId): SensorId | null {
		const start = ring.indexOf(after);
		for (let step = 1; step <= ring.length; step++) {
			const candidate = ring[(start + step) % ring.length]!;
			if (candidate === this.host.sensor || candidate === after) continue;
			const member = this.#memberOf(candidate);
			if (member !== null && !this.host.member.liveness.isDead(member.id)) return candidate;
		}
		return null;
	}
}
