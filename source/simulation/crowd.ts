import type { AreaId, SensorId } from '../model/ids.js';
import type { MallLayout, Sensor } from '../model/mall.js';
import type { Direction, Person } from '../counting/sensor-counter.js';

/** Where a person is: on a floor, possibly inside one of its stores. */
interface Whereabouts {
	readonly floor: AreaId;
	readonly store: AreaId | null;
}

interface Individual {
	readonly kind: Person;
	where: Whereabouts;
	/** True while a move through a sensor is being decided: one move at a time. */
	moving: boolean;
}

export interface PlannedMove {
	readonly person: number | null;
	readonly kind: Person;
	readonly sensor: SensorId;
	readonly direction: Direction;
	/** Where the person will be if the move is admitted; null: out of the mall. */
	readonly to: Whereabouts | null;
}

export interface AreaTruth {
	visitors: number;
	staff: number;
	peak: number;
	admitted: number;
	refused: number;
}

/** Chance that a step brings someone new to a street entrance rather than moving someone inside. */
const ARRIVAL_SHARE = 0.45;
/** Share of arrivals that are staff, at the staff entrance, while a shift is short of people. */
const STAFF_SHARE = 0.04;
/** A shift: this many staff per store and per floor (shop assistants, cleaners, security). */
const STAFF_PER_AREA = 1;
/** Chance that a member of staff inside a store stays at work rather than moving on. */
const STAFF_STAY = 0.8;

/**
 * The simulator's people and the truth about where they are. It plans plausible moves
 * (arrive, shop, change floor, leave), and since it sees every decision, it knows the true
 * occupancy of every area at every moment: the yardstick for "never over capacity".
 */
export class Crowd {
	readonly truth = new Map<AreaId, AreaTruth>();
	readonly #people = new Map<number, Individual>();
	#nextId = 1;
	violations = 0;
	/**
	 * Refusals while the truth had room for the move (`hadRoom`), by the gate's reason: the
	 * network's limits showing, not the mall's. A refusal for `full` counted here came on a
	 * stale view; one for `no-permit`, while the permits were elsewhere.
	 */
	readonly falseRefusals: Record<string, number> = {};
	/** Stores that attract more shoppers, so that some fill up. */
	readonly #popularity = new Map<AreaId, number>();
	/** The layout's sensors, listed once: every planned move searches them. */
	readonly #sensors: readonly Sensor[];
	/** The whole mall (the root area), and how many staff a shift has. */
	readonly #mall: AreaId;
	readonly #shift: number;

	constructor(readonly layout: MallLayout, readonly random: () => number) {
		this.#sensors = [...layout.sensors.values()];
		this.#mall = [...layout.areas.values()].find((area) => area.parent === null)!.id;
		this.#shift = STAFF_PER_AREA * (layout.areas.size - 1);
		for (const area of layout.areas.keys()) this.truth.set(area, { visitors: 0, staff: 0, peak: 0, admitted: 0, refused: 0 });
		for (const { stores } of layout.floors) {
			stores.forEach((store, index) => this.#popularity.set(store, index % 3 === 0 ? 4 : 1));
		}
	}

	/**
	 * Whether the truth had room for the move now: every area it enters below capacity (staff
	 * need none). An exit always has: its person is inside, and a person who walks out is out.
	 */
	hadRoom(move: Pick<PlannedMove, 'sensor' | 'direction' | 'kind'>): boolean {
		if (move.kind === 'staff') return true;
		const sensor = this.layout.sensors.get(move.sensor)!;
		const way = move.direction === 'enter' ? sensor.inward : sensor.outward;
		return way.enters.every((area) => this.truth.get(area)!.visitors < this.layout.areas.get(area)!.capacity);
	}

	get population(): number {
		return this.#people.size;
	}

	/** A move to try next, or null if nothing sensible can happen right now. */
	plan(): PlannedMove | null {
		if (this.random() < ARRIVAL_SHARE || this.#people.size === 0) return this.#arrival();
		const idle = this.#pickIdle();
		return idle === null ? this.#arrival() : this.#moveOf(idle[0], idle[1]);
	}

	/**
	 * Applies the gate's answer to the truth; returns the area the move took over capacity,
	 * if it did. `reason`: why a gate refused (null: no gate was asked, the move did not happen).
	 */
	settle(move: PlannedMove, admitted: boolean, refusedArea: AreaId | null, reason: string | null = null): AreaId | null {
		const person = move.person === null ? null : this.#people.get(move.person);
		if (person) person.moving = false;
		if (!admitted) {
			if (refusedArea !== null) this.truth.get(refusedArea)!.refused++;
			if (reason !== null && this.hadRoom(move)) this.falseRefusals[reason] = (this.falseRefusals[reason] ?? 0) + 1;
			return null;
		}
		const sensor = this.layout.sensors.get(move.sensor)!;
		const way = move.direction === 'enter' ? sensor.inward : sensor.outward;
		let violated: AreaId | null = null;
		for (const area of way.leaves) this.#count(area, move.kind, -1);
		for (const area of way.enters) {
			const truth = this.#count(area, move.kind, +1);
			truth.admitted += move.kind === 'visitor' ? 1 : 0;
			const capacity = this.layout.areas.get(area)!.capacity;
			if (move.kind === 'visitor' && truth.visitors > capacity) violated = area;
		}
		if (violated !== null) this.violations++;
		if (move.to === null) {
			if (move.person !== null) this.#people.delete(move.person);
		} else if (person) {
			person.where = move.to;
		} else {
			this.#people.set(this.#nextId++, { kind: move.kind, where: move.to, moving: false });
		}
		return violated;
	}

	#count(area: AreaId, kind: Person, by: 1 | -1): AreaTruth {
		const truth = this.truth.get(area)!;
		if (kind === 'visitor') truth.visitors += by;
		else truth.staff += by;
		truth.peak = Math.max(truth.peak, truth.visitors);
		return truth;
	}

	#arrival(): PlannedMove | null {
		// Staff come for their shift, not in a stream: once it is full, only visitors arrive.
		const staff = this.random() < STAFF_SHARE && this.truth.get(this.#mall)!.staff < this.#shift;
		const doors = this.#sensors.filter((sensor) => sensor.kind === (staff ? 'staff-entrance' : 'entrance'));
		const door = this.#pick(doors);
		if (!door) return null;
		const floor = door.inward.enters.find((area) => this.layout.areas.get(area)?.kind === 'floor')!;
		return { person: null, kind: door.staffOnly ? 'staff' : 'visitor', sensor: door.id, direction: 'enter', to: { floor, store: null } };
	}

	#pickIdle(): [number, Individual] | null {
		for (let tries = 0; tries < 8; tries++) {
			const index = Math.floor(this.random() * this.#people.size);
			let n = 0;
			for (const entry of this.#people) {
				if (n++ === index) {
					if (!entry[1].moving) return entry;
					break;
				}
			}
		}
		return null;
	}

	#moveOf(id: number, person: Individual): PlannedMove | null {
		const plan = this.#choose(person);
		if (plan) person.moving = true;
		return plan === null ? null : { ...plan, person: id, kind: person.kind };
	}

	#choose(person: Individual): Omit<PlannedMove, 'person' | 'kind'> | null {
		const { floor, store } = person.where;
		const sensors = this.#sensors;
		// Staff in a store are mostly at work there.
		if (store !== null && person.kind === 'staff' && this.random() < STAFF_STAY) return null;
		if (store !== null) {
			const door = this.#pick(sensors.filter((sensor) => sensor.kind === 'store-door' && sensor.inward.enters.includes(store)));
			return door ? { sensor: door.id, direction: 'exit', to: { floor, store: null } } : null;
		}
		const roll = this.random();
		if (roll < 0.55) {
			const stores = this.layout.floors.find((entry) => entry.floor === floor)?.stores ?? [];
			const target = this.#pickWeighted(stores);
			const door = target && this.#pick(sensors.filter((sensor) => sensor.kind === 'store-door' && sensor.inward.enters.includes(target)));
			if (door && target) return { sensor: door.id, direction: 'enter', to: { floor, store: target } };
		}
		if (roll < 0.8) {
			const escalators = sensors.filter((sensor) => sensor.kind === 'escalator' && (sensor.inward.leaves.includes(floor) || sensor.outward.leaves.includes(floor)));
			const escalator = this.#pick(escalators);
			if (escalator) {
				const up = escalator.inward.leaves.includes(floor);
				const to = (up ? escalator.inward.enters : escalator.outward.enters)[0]!;
				return { sensor: escalator.id, direction: up ? 'enter' : 'exit', to: { floor: to, store: null } };
			}
		}
		const exits = sensors.filter((sensor) => sensor.kind === (person.kind === 'staff' ? 'staff-entrance' : 'entrance') && sensor.outward.leaves.includes(floor));
		const door = this.#pick(exits.length > 0 ? exits : sensors.filter((sensor) => sensor.kind === 'entrance' && sensor.outward.leaves.includes(floor)));
		if (door) return { sensor: door.id, direction: 'exit', to: null };
		// No way out on this floor: head for another floor.
		const escalator = this.#pick(sensors.filter((sensor) => sensor.kind === 'escalator' && (sensor.inward.leaves.includes(floor) || sensor.outward.leaves.includes(floor))));
		if (!escalator) return null;
		const up = escalator.inward.leaves.includes(floor);
		return { sensor: escalator.id, direction: up ? 'enter' : 'exit', to: { floor: (up ? escalator.inward.enters : escalator.outward.enters)[0]!, store: null } };
	}

	#pick<T>(items: readonly T[]): T | undefined {
		return items[Math.floor(this.random() * items.length)];
	}

	#pickWeighted(stores: readonly AreaId[]): AreaId | undefined {
		let total = 0;
		for (const store of stores) total += this.#popularity.get(store) ?? 1;
		let roll = this.random() * total;
		for (const store of stores) {
			roll -= this.#popularity.get(store) ?? 1;
			if (roll < 0) return store;
		}
		return stores.at(-1);
	}
}
