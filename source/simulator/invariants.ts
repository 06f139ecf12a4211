import type { AreaId, SensorId } from '../model/ids.js';
import type { MallLayout } from '../model/mall.js';
import { rowCovers, type Row } from '../counting/row.js';
import type { Direction, Person } from '../counting/sensor-counter.js';
import type { MoveAnswer } from '../roles/sensor/sensor-peer.js';
import type { TraceLine } from './sim-cluster.js';

/** An invariant broken, when, and how: what the simulator reports for a seed. */
export interface Failure {
	readonly invariant: string;
	readonly at: number;
	readonly detail: string;
}

/** What a sensor's gate said about the moves through it, per area: the floor of what its own row must count. */
interface Answered {
	entries: number;
	exits: number;
	staffEntries: number;
	staffExits: number;
}

const zero = (): Answered => ({ entries: 0, exits: 0, staffEntries: 0, staffExits: 0 });

function fieldOf(person: Person, change: number): keyof Answered {
	if (person === 'staff') return change > 0 ? 'staffEntries' : 'staffExits';
	return change > 0 ? 'entries' : 'exits';
}

/**
 * The simulator's referee (design.md §1–§5, issue 9): it sees every answer of every gate,
 * every event of every node and every fault it injected, and says when an invariant
 * broke. It keeps, per sensor and area, what the gate answered — the least its own row
 * may count — and what it may have counted without answering (a crash between the record
 * reaching the disk and the answer reaching the gate: the one ambiguity the design admits).
 */
export class Referee {
	readonly failures: Failure[] = [];
	readonly #answered = new Map<string, Answered>();
	/** Moves answered "stopped" by a crash: they may have been written before the process died. */
	readonly #maybe = new Map<string, Answered>();
	/** When each member was last down or restarted, and each host last cut off or cut in any way. */
	readonly #troubledAt = new Map<string, number>();
	/** Members whose process is not running now, and hosts cut off (any way) now. */
	readonly #down = new Set<string>();
	readonly #cut = new Map<string, number>();
	readonly #incarnations = new Map<string, number>();
	/**
	 * Members killed since their last login line, with the address the dead process logged
	 * in from: the next login from any other address (the new process) must be higher.
	 */
	readonly #restarted = new Map<string, string | undefined>();
	/** The address each member last logged in from: a process keeps its socket for its life. */
	readonly #addressOf = new Map<string, string>();
	/** Which of the tracker's lives (one per start) each member last logged in to: its epoch. */
	readonly #lifeOf = new Map<string, number>();
	/** When each member last moved to another of the tracker's lives. */
	readonly #movedAt = new Map<string, number>();
	/** When each member (and the tracker) last started serving. */
	readonly #upAt = new Map<string, number>();
	/** Members already reported behind the tracker's epoch: once each, until they move. */
	readonly #behindReported = new Set<string>();
	/** `#checkEpochs` looks once a simulated second. */
	#epochsCheckedAt = -Infinity;
	#trackerLife = 0;

	/**
	 * `epochFollowMs`: how long a running member may speak an older epoch than the running
	 * tracker's — noticing the restart, then logging in again, several times over under loss.
	 */
	constructor(readonly layout: MallLayout, readonly deadAfterMs: number, readonly epochFollowMs: number) {}

	fail(invariant: string, at: number, detail: string): void {
		this.failures.push({ invariant, at, detail });
	}

	/** A member was crashed, restarted, cut off or joined back at `at`: a "dead" about it around then is no false one. */
	troubled(member: string, at: number): void {
		this.#troubledAt.set(member, at);
	}

	/** A host can no longer send, or receive, or either: until `healed`. Cuts may overlap. */
	cutOff(host: string, at: number): void {
		this.#cut.set(host, (this.#cut.get(host) ?? 0) + 1);
		this.troubled(host, at);
	}

	healed(host: string, at: number): void {
		const left = (this.#cut.get(host) ?? 1) - 1;
		if (left > 0) this.#cut.set(host, left);
		else this.#cut.delete(host);
		this.troubled(host, at);
	}

	/** A member's process was killed: it is down until `up`. */
	killed(member: string, at: number): void {
		this.#restarted.set(member, this.#addressOf.get(member));
		this.#down.add(member);
		this.troubled(member, at);
	}

	/** A member's process serves again. */
	up(member: string, at: number): void {
		this.#down.delete(member);
		this.#upAt.set(member, at);
		this.troubled(member, at);
		if (member === 'tracker') this.#trackerLife++;
	}

	/**
	 * Two members in different epochs share no keys until both log in again (after a
	 * tracker restart each moves when it notices, and bridges one epoch meanwhile; when the
	 * tracker fails again before all moved, some sit in epochs no bridge joins): they cannot
	 * reach each other whatever the network does, so a "dead" between them, or one within
	 * deadAfterMs of their split ending, is no false one. That no member stays behind for
	 * long is its own invariant (`#checkEpochs`).
	 */
	#splitByEpochs(a: string, b: string, at: number): boolean {
		const lifeA = this.#lifeOf.get(a);
		const lifeB = this.#lifeOf.get(b);
		if (lifeA === undefined || lifeB === undefined) return false;
		const since = at - this.deadAfterMs - 1000;
		return lifeA !== lifeB || [a, b].some((who) => (this.#movedAt.get(who) ?? -Infinity) >= since);
	}

	/**
	 * Every running member follows the tracker into its epoch within `epochFollowMs` of the
	 * tracker (or the member) starting: noticing the restart and logging in again may take
	 * several tries under loss, but not for ever.
	 */
	#checkEpochs(at: number): void {
		if (at < this.#epochsCheckedAt + 1000) return;
		this.#epochsCheckedAt = at;
		if (this.#down.has('tracker')) return;
		for (const [member, life] of this.#lifeOf) {
			if (life === this.#trackerLife || this.#down.has(member) || this.#behindReported.has(member)) continue;
			const since = Math.max(this.#upAt.get('tracker') ?? 0, this.#upAt.get(member) ?? 0);
			if (at - since <= this.epochFollowMs) continue;
			this.#behindReported.add(member);
			this.fail('every member follows the tracker into its epoch', at, `${member} still speaks an epoch of an earlier tracker ${Math.round((at - since) / 1000)} s after the tracker started`);
		}
	}

	#moveTo(member: string, life: number, at: number): void {
		if (this.#lifeOf.get(member) !== life) this.#movedAt.set(member, at);
		this.#lifeOf.set(member, life);
		this.#behindReported.delete(member);
	}

	/** A gate answered. */
	answered(sensor: SensorId, person: Person, answer: MoveAnswer): void {
		if (answer.admitted) this.#add(this.#answered, sensor, person, answer.delta, 1);
	}

	/** A crash cut a move's answer off: its sensor's log may hold it or not, until `resolve`. */
	inDoubt(sensor: SensorId, person: Person, direction: Direction): void {
		this.#add(this.#maybe, sensor, person, this.#couldHave(sensor, direction), 1);
	}

	/**
	 * Decides a move `inDoubt`, by the sensor's own rows once it is back: written if every
	 * count it would have bumped is above what the gate answered (moves are written in
	 * order, so the first ones in doubt are the ones a torn log kept). Returns whether it was.
	 */
	resolve(sensor: SensorId, person: Person, direction: Direction, ownRow: (area: AreaId) => Row): boolean {
		const delta = this.#couldHave(sensor, direction);
		this.#add(this.#maybe, sensor, person, delta, -1);
		const written = Object.entries(delta).every(([area, change]) => {
			const field = fieldOf(person, change);
			return ownRow(area as AreaId)[field] > (this.#answered.get(`${sensor} ${area}`) ?? zero())[field];
		});
		if (written) this.#add(this.#answered, sensor, person, delta, 1);
		return written;
	}

	#add(table: Map<string, Answered>, sensor: SensorId, person: Person, delta: Record<string, number>, by: 1 | -1): void {
		for (const [area, change] of Object.entries(delta)) {
			const key = `${sensor} ${area}`;
			const counts = table.get(key) ?? zero();
			counts[fieldOf(person, change)] += by;
			table.set(key, counts);
		}
	}

	/** The delta a move at `sensor` would have made: what a crash may have written without answering. */
	#couldHave(sensor: SensorId, direction: Direction): Record<string, 1 | -1> {
		const way = this.layout.sensors.get(sensor);
		if (!way) return {};
		const move = direction === 'enter' ? way.inward : way.outward;
		return Object.fromEntries([...move.enters.map((area) => [area, 1] as const), ...move.leaves.map((area) => [area, -1] as const)]);
	}

	/**
	 * A sensor's own row, when it (re)starts serving and at the end: never below what its
	 * gate answered (no admission answered is lost), never above that plus the moves a
	 * crash may have written (nothing counted twice, nothing invented).
	 */
	checkOwnRow(sensor: SensorId, area: AreaId, row: Row, at: number): void {
		const key = `${sensor} ${area}`;
		const low = this.#answered.get(key) ?? zero();
		const maybe = this.#maybe.get(key) ?? zero();
		for (const field of ['entries', 'exits', 'staffEntries', 'staffExits'] as const) {
			if (row[field] < low[field]) this.fail('no admission the gate answered is lost', at, `${sensor} counts ${row[field]} ${field} in ${area}, its gate answered ${low[field]}`);
			else if (row[field] > low[field] + maybe[field]) this.fail('nothing counted that did not happen', at, `${sensor} counts ${row[field]} ${field} in ${area}: answered ${low[field]}, and at most ${maybe[field]} more written before a crash`);
		}
	}

	/**
	 * A restarted sensor, when it starts deciding: its own row must contain every version
	 * of it that a running member holds — it never decides on counts older than what it
	 * told anyone.
	 */
	checkFresh(sensor: SensorId, area: AreaId, own: Row, held: Row, holder: string, at: number): void {
		if (!rowCovers(own, held)) this.fail('a restarted sensor never decides on counts older than what it told anyone', at, `${sensor} serves with its ${area} row behind what ${holder} holds of it`);
	}

	/** Every event of every node goes through here. */
	observe(line: TraceLine): void {
		const { event, at, node } = line;
		this.#checkEpochs(at);
		if (event.type === 'liveness' && event['health'] === 'dead') {
			const member = String(event['member']);
			const since = at - this.deadAfterMs - 1000;
			const excused = this.#down.has(member) || [member, node].some((who) => this.#cut.has(who) || (this.#troubledAt.get(who) ?? -Infinity) >= since) || this.#splitByEpochs(member, node, at);
			if (!excused) this.fail('no live, reachable member is declared dead', at, `${node} declared ${member} dead, though both ran and could reach each other for the last ${Math.round(this.deadAfterMs / 1000)} s`);
		}
		if (event.type === 'member-joined') {
			const id = String(event['id']);
			const incarnation = Number(event['incarnation']);
			const before = this.#incarnations.get(id) ?? 0;
			const address = String(event['address']);
			// A login the dead process sent just before it died can still arrive: it is no restart.
			const restarted = this.#restarted.has(id) && this.#restarted.get(id) !== address;
			if (restarted) this.#restarted.delete(id);
			this.#addressOf.set(id, address);
			if (incarnation < before || (restarted && incarnation <= before)) this.fail('incarnations only rise', at, `${id} logged in as incarnation ${incarnation} after ${before}${restarted ? ' (a restarted process)' : ''}`);
			this.#incarnations.set(id, Math.max(before, incarnation));
			// A process's first login puts it in the epoch; one that logs in again moves once it has caught up ('rejoined').
			if (event['continuing'] !== true) this.#moveTo(id, this.#trackerLife, at);
		}
		if (event.type === 'rejoined') this.#moveTo(node, this.#trackerLife, at);
		if (event.type === 'violation') this.fail('never over capacity', at, String(event['message']));
	}
}
