import { performance } from 'node:perf_hooks';
import type { AreaId } from '../model/ids.js';
import type { Mall } from '../model/mall.js';
import type { Crowd, PlannedMove } from '../simulation/crowd.js';
import type { LabRecord, MoveRecord } from './lab-record.js';
import type { MemberProcess } from './member-process.js';

/** The generator's tick: moves due in a tick are sent together. */
const TICK_MS = 25;
/**
 * Moves unanswered at once, across the mall. A peer answers its commands one after
 * another and a refusal may wait 150 ms for a loan, so a few per sensor keep the rate
 * without piling up a backlog that would make answers late.
 */
const MAX_IN_FLIGHT = 64;
/** An answer this late means the peer is stuck; the move is recorded as unanswered. */
const ANSWER_TIMEOUT_MS = 10_000;
/** Refusals that mean "the room is elsewhere": the network's limits showing, not the mall being full. */
const ROOM_ELSEWHERE = new Set(['no-permit', 'cut-off']);

/**
 * Shoppers as the crowd plans them, sent to the peers' stdin at a steady rate. Every
 * answer settles its move, so the crowd's truth is the true occupancy of every area as
 * the gates decided it. A sensor can be held (no new moves, e.g. before a kill -9) and
 * released again; a move planned at a held or absent sensor is not sent.
 */
export class ShopperTraffic {
	#timer: NodeJS.Timeout | null = null;
	#owed = 0;
	#last = 0;
	#inFlight = 0;
	readonly #inFlightAt = new Map<string, number>();
	readonly #held = new Set<string>();

	constructor(
		readonly crowd: Crowd,
		readonly mall: Mall,
		/** The process serving a sensor now, or undefined if none is (killed, not ready yet). */
		readonly serving: (sensor: string) => MemberProcess | undefined,
		readonly record: LabRecord,
		public rate: number,
	) {}

	start(): void {
		if (this.#timer) return;
		this.#last = performance.now();
		this.#timer = setInterval(() => this.#tick(), TICK_MS);
	}

	/** Stops sending and waits (at most `ms`) for the moves in flight to be answered; returns how many were not. */
	async stop(ms: number): Promise<number> {
		if (this.#timer) clearInterval(this.#timer);
		this.#timer = null;
		await this.#until(() => this.#inFlight === 0, ms);
		return this.#inFlight;
	}

	/** No new moves at `sensor`; waits (at most `ms`) for its moves in flight. Returns how many are still unanswered. */
	async hold(sensor: string, ms: number): Promise<number> {
		this.#held.add(sensor);
		await this.#until(() => (this.#inFlightAt.get(sensor) ?? 0) === 0, ms);
		return this.#inFlightAt.get(sensor) ?? 0;
	}

	release(sensor: string): void {
		this.#held.delete(sensor);
	}

	#tick(): void {
		const now = performance.now();
		// Owed by the time elapsed, not by ticks: a late tick must not lose its moves.
		this.#owed += (this.rate * (now - this.#last)) / 1000;
		this.#last = now;
		while (this.#owed >= 1 && this.#inFlight < MAX_IN_FLIGHT) {
			this.#owed--;
			this.#step();
		}
		this.#owed = Math.min(this.#owed, this.rate); // no more than a second of backlog
	}

	#step(): void {
		const move = this.crowd.plan();
		if (!move) return;
		const peer = this.#held.has(move.sensor) ? undefined : this.serving(move.sensor);
		if (!peer) {
			this.crowd.settle(move, false, null);
			this.record.skipped.push({ at: performance.now(), sensor: move.sensor });
			return;
		}
		const command = `${move.direction}${move.kind === 'staff' ? ' staff' : ''}`;
		const record: MoveRecord = { sentAt: performance.now(), answeredAt: Number.NaN, sensor: move.sensor, command, outcome: 'no-answer', reason: null, area: null, truthHadRoom: null };
		this.record.moves.push(record);
		this.#inFlight++;
		this.#inFlightAt.set(move.sensor, (this.#inFlightAt.get(move.sensor) ?? 0) + 1);
		void peer.ask(command, ANSWER_TIMEOUT_MS).then((answer) => {
			this.#inFlight--;
			this.#inFlightAt.set(move.sensor, (this.#inFlightAt.get(move.sensor) ?? 1) - 1);
			record.answeredAt = answer?.at ?? performance.now();
			const expected = move.direction === 'enter' ? 'entry' : 'exit';
			if (!answer || answer.line.type !== expected) {
				// No answer (the process died or is stuck) or not the answer asked for: the outcome is
				// unknown, so the person is taken to have stayed put and the move is reported as such.
				record.reason = answer ? `answered ${answer.line.type ?? 'nothing'}` : null;
				this.crowd.settle(move, false, null);
				return;
			}
			this.#settle(move, record, answer.line);
		});
	}

	#settle(move: PlannedMove, record: MoveRecord, answer: Record<string, unknown>): void {
		if (answer['admitted'] === true) {
			record.outcome = 'admitted';
			if (this.crowd.settle(move, true, null)) this.#recordViolation(move);
			return;
		}
		record.outcome = 'refused';
		record.reason = typeof answer['reason'] === 'string' ? answer['reason'] : 'unknown';
		record.area = typeof answer['area'] === 'string' ? answer['area'] : null;
		if (record.area !== null && ROOM_ELSEWHERE.has(record.reason)) {
			const truth = this.crowd.truth.get(record.area as AreaId);
			const capacity = this.mall.areas.get(record.area as AreaId)?.capacity;
			// Capacity bounds visitors; staff are counted beside it.
			if (truth && capacity !== undefined) record.truthHadRoom = move.kind === 'staff' || truth.visitors < capacity;
		}
		this.crowd.settle(move, false, record.area as AreaId | null);
	}

	#recordViolation(move: PlannedMove): void {
		const sensor = this.mall.sensors.get(move.sensor)!;
		const way = move.direction === 'enter' ? sensor.inward : sensor.outward;
		const areas: Record<string, { visitors: number; capacity: number }> = {};
		for (const area of way.enters) {
			const visitors = this.crowd.truth.get(area)?.visitors ?? 0;
			const capacity = this.mall.areas.get(area)!.capacity;
			if (visitors > capacity) areas[area] = { visitors, capacity };
		}
		this.record.violations.push({ at: performance.now(), sensor: move.sensor, areas });
	}

	async #until(done: () => boolean, ms: number): Promise<void> {
		const deadline = performance.now() + ms;
		while (!done() && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
	}
}
