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
	/** Members whose process restarted since its last login line: its next incarnation must be higher. */
	readonly #restarted = new Set<string>();
	/** Which of the tracker's lives (one per start) each member last logged in to: its epoch. */
	readonly #lifeOf = new Map<string, number>();
	#trackerLife = 0;

	/**
	 * `epochMoveMs`: how long after a tracker restart a member may still sit in an older
	 * epoch — noticing, then logging in again within its join bound (under loss, a login
	 * can take all of it).
	 */
	constructor(readonly layout: MallLayout, readonly deadAfterMs: number, readonly epochMoveMs: number) {}

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
		this.#restarted.add(member);
		this.#down.add(member);
		this.troubled(member, at);
	}

	/** A member's process serves again. */
	up(member: string, at: number): void {
		this.#down.delete(member);
		this.troubled(member, at);
		if (member === 'tracker') this.#trackerLife++;
	}

	/**
	 * Two members in different epochs share no keys until both log in again: after a
	 * tracker restart each moves when it notices (and bridges one epoch meanwhile), but
	 * when the tracker fails again before they all moved, some sit in epochs that no bridge
	 * joins. Until `settleMs` after the tracker's last crash or start, they cannot reach
	 * each other whatever the network does.
	 */
	#splitByEpochs(a: string, b: string, at: number, settleMs: number): boolean {
		const lifeA = this.#lifeOf.get(a);
		const lifeB = this.#lifeOf.get(b);
		if (lifeA === undefined || lifeB === undefined || lifeA === lifeB) return false;
		return (this.#troubledAt.get('tracker') ?? -Infinity) >= at - settleMs;
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
		if (event.type === 'liveness' && event['health'] === 'dead') {
			const member = String(event['member']);
			const since = at - this.deadAfterMs - 1000;
			const excused = this.#down.has(member) || [member, node].some((who) => this.#cut.has(who) || (this.#troubledAt.get(who) ?? -Infinity) >= since) || this.#splitByEpochs(member, node, at, this.deadAfterMs + this.epochMoveMs);
			if (!excused) this.fail('no live, reachable member is declared dead', at, `${node} declared ${member} dead, though both ran and could reach each other for the last ${Math.round(this.deadAfterMs / 1000)} s`);
		}
		if (event.type === 'member-joined') {
			const id = String(event['id']);
			const incarnation = Number(event['incarnation']);
			const before = this.#incarnations.get(id) ?? 0;
			const restarted = this.#restarted.delete(id);
			if (incarnation < before || (restarted && incarnation <= before)) this.fail('incarnations only rise', at, `${id} logged in as incarnation ${incarnation} after ${before}${restarted ? ' (a restarted process)' : ''}`);
			this.#incarnations.set(id, Math.max(before, incarnation));
			// A process's first login puts it in the epoch; one that logs in again moves once it has caught up ('rejoined').
			if (event['continuing'] !== true) this.#lifeOf.set(id, this.#trackerLife);
		}
		if (event.type === 'rejoined') this.#lifeOf.set(node, this.#trackerLife);
		if (event.type === 'member-joined') {
		}
		if (event.type === 'violation') this.fail('never over capacity', at, String(event['message']));
	}
}
