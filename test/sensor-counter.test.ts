import test from 'ava';
import fc from 'fast-check';
import { areaId, sensorId, type AreaId, type SensorId } from '../source/model/ids.js';
import { SensorCounter } from '../source/counting/sensor-counter.js';
import { GranterRegistry } from '../source/counting/granter-registry.js';
import { EMPTY_ROW } from '../source/counting/row.js';
import { tinyLayout } from './helpers/tiny-layout.js';

const shop = areaId('shop');
const mall = areaId('mall');
const ground = areaId('ground');
const front = sensorId('shop-front');
const back = sensorId('shop-back');
const side = sensorId('shop-side');

/** `holder` asks `granter` for a lease of `want` in `area`, and the granter's row reaches it. */
function lease(holder: SensorCounter, granter: SensorCounter, area: AreaId = shop, want = 100): void {
	const ask = holder.leaseAsk(area, want);
	if (!ask || ask.granter !== granter.self) throw new Error(`${granter.self} is not ${holder.self}'s granter`);
	granter.grant(area, holder.self, ask.request);
	holder.offer(area, granter.self, granter.ownRow(area));
}

test('a sensor starts with its share of the area capacity', (t) => {
	const counter = new SensorCounter(tinyLayout({ store: 3 }), front);
	const other = new SensorCounter(tinyLayout({ store: 3 }), back);
	t.is(counter.permits(shop) + other.permits(shop), 3);
	t.is(counter.permits(shop), 2);
});

test('an entry consumes a local permit and an exit returns one', (t) => {
	const counter = new SensorCounter(tinyLayout(), front);
	lease(counter, new SensorCounter(tinyLayout(), back));
	const before = counter.permits(shop);
	const entry = counter.attempt('enter', 'visitor');
	t.is(entry.kind, 'admitted');
	t.is(counter.permits(shop), before - 1);
	t.deepEqual(entry.kind === 'admitted' ? Object.fromEntries(entry.delta) : null, { shop: 1 });
	t.is(counter.attempt('exit', 'visitor').kind, 'admitted');
	t.is(counter.permits(shop), before);
});

test('an entry with no local permit but room elsewhere asks to borrow', (t) => {
	const counter = new SensorCounter(tinyLayout({ store: 2 }), front);
	lease(counter, new SensorCounter(tinyLayout({ store: 2 }), back));
	t.is(counter.attempt('enter', 'visitor').kind, 'admitted');
	t.deepEqual(counter.attempt('enter', 'visitor'), { kind: 'short', areas: [shop], leases: [] });
});

test('a sensor holding permits spends none until its granter gives it a lease, and no more than the lease', (t) => {
	const holder = new SensorCounter(tinyLayout({ store: 10 }), front);
	const granter = new SensorCounter(tinyLayout({ store: 10 }), back);
	t.is(holder.permits(shop), 5);
	t.deepEqual(holder.attempt('enter', 'visitor'), { kind: 'short', areas: [], leases: [shop] });
	lease(holder, granter, shop, 2);
	t.is(holder.budget(shop), 2);
	t.is(holder.attempt('enter', 'visitor').kind, 'admitted');
	t.is(holder.give(shop, back, 5), 1, 'a gift is spending too: only what is left of the lease');
	t.deepEqual(holder.attempt('enter', 'visitor'), { kind: 'short', areas: [], leases: [shop] });
	t.is(holder.permits(shop), 3);
});

test('a granter takes back only what its holder held above the lease, and the holder still spends its whole lease', (t) => {
	const layout = tinyLayout({ store: 10 });
	const holder = new SensorCounter(layout, front);
	const granter = new SensorCounter(layout, back);
	const tracker = new GranterRegistry(layout);
	lease(holder, granter, shop, 3);
	const target = granter.reclaimable(shop, front);
	t.deepEqual(target, { gen: 0, total: 2 }, 'five held, three leased: two may be taken');
	t.true(tracker.take(shop, front, back, target!.gen, target!.total).ok);
	granter.recordTake(shop, front, target!.total);
	t.is(granter.permits(shop), 7);
	// The holder, cut off, never heard of the take: it still spends exactly its lease.
	let admitted = 0;
	while (holder.attempt('enter', 'visitor').kind === 'admitted') admitted++;
	t.is(admitted, 3);
	holder.offer(shop, back, granter.ownRow(shop));
	t.is(holder.permits(shop), 0, 'once it hears of the take, its permits agree');
	t.is(granter.reclaimable(shop, front), null, 'nothing more to take');
});

test('the tracker refuses a take from a granter the holder has moved away from', (t) => {
	const layout = tinyLayout({ store: 9, sideDoor: true });
	const tracker = new GranterRegistry(layout);
	t.deepEqual(tracker.assignment(shop, front), { gen: 0, granter: back, formerTaken: 0, granterTaken: 0, floor: 0 });
	t.true(tracker.take(shop, front, back, 0, 1).ok);
	t.true(tracker.reassign(shop, front, 0, side, 4).ok);
	t.false(tracker.take(shop, front, back, 0, 3).ok, 'the former granter can take no more');
	t.false(tracker.reassign(shop, front, 0, back, 4).ok, 'a late request for the old generation changes nothing');
	t.deepEqual(tracker.assignment(shop, front), { gen: 1, granter: side, formerTaken: 1, granterTaken: 0, floor: 4 });
	t.true(tracker.take(shop, front, side, 1, 2).ok);
	const restored = new GranterRegistry(layout, JSON.parse(JSON.stringify(tracker.toJSON())));
	t.deepEqual(restored.assignment(shop, front), { gen: 1, granter: side, formerTaken: 1, granterTaken: 0, floor: 4 });
	t.false(tracker.take(shop, front, front, 1, 1).ok, 'nobody takes from itself');
});

test('while its lease moves, a holder spends no more than the floor it told the tracker, whatever its old granter gives meanwhile', (t) => {
	const layout = tinyLayout({ store: 30, sideDoor: true });
	const [holder, old, next] = [front, back, side].map((id) => new SensorCounter(layout, id)) as [SensorCounter, SensorCounter, SensorCounter];
	const tracker = new GranterRegistry(layout);
	lease(holder, old, shop, 3);
	const floor = holder.ledger(shop)!.capOf(front);
	holder.limit(shop, floor); // it asked the tracker to move its lease, with this floor
	lease(holder, old, shop, 10); // a late answer to a request sent before: the old cap grows
	let admitted = 0;
	while (holder.attempt('enter', 'visitor').kind === 'admitted') admitted++;
	t.is(admitted, 3);
	t.true(tracker.reassign(shop, front, 0, side, floor).ok);
	const assignment = tracker.assignment(shop, front)!;
	t.deepEqual(assignment, { gen: 1, granter: side, formerTaken: 0, granterTaken: 0, floor: 3 });
	holder.assign(shop, { ...assignment, sig: 'signed by the tracker' });
	holder.limit(shop, null);
	t.is(holder.budget(shop), 0, 'the new generation starts at the floor: nothing more until the new granter gives');
	next.offer(shop, front, holder.ownRow(shop));
	t.deepEqual(next.reclaimable(shop, front), { gen: 1, total: 7 }, 'ten held, three spent: the new granter may take seven');
	t.false(tracker.take(shop, front, back, 0, 7).ok, 'the old granter can take nothing any more');
});

test('refuses an entry when the store is full', (t) => {
	const front_ = new SensorCounter(tinyLayout({ store: 2 }), front);
	const back_ = new SensorCounter(tinyLayout({ store: 2 }), back);
	lease(front_, back_);
	lease(back_, front_);
	t.is(front_.attempt('enter', 'visitor').kind, 'admitted');
	t.is(back_.attempt('enter', 'visitor').kind, 'admitted');
	front_.offer(shop, back, back_.ownRow(shop));
	t.deepEqual(front_.attempt('enter', 'visitor'), { kind: 'refused', reason: 'full', area: shop });
});

test('an exit is a fact: counted even where nobody is known to be inside (the entry is not seen yet)', (t) => {
	const counter = new SensorCounter(tinyLayout(), front);
	t.like(counter.attempt('exit', 'visitor'), { kind: 'admitted' });
	t.is(counter.ownRow(shop).exits, 1);
	t.like(counter.attempt('exit', 'staff'), { kind: 'admitted' });
	t.is(counter.ownRow(shop).staffExits, 1);
});

test('exits counted on stale views: every exit is counted, the store never holds more than its capacity, and the doors agree once rows cross', (t) => {
	fc.assert(
		fc.property(
			fc.integer({ min: 1, max: 8 }),
			fc.array(fc.tuple(fc.constantFrom('enter', 'exit', 'sync'), fc.boolean()), { maxLength: 120 }),
			(capacity, steps) => {
				const doors = [new SensorCounter(tinyLayout({ store: capacity }), front), new SensorCounter(tinyLayout({ store: capacity }), back)] as const;
				lease(doors[0], doors[1]);
				lease(doors[1], doors[0]);
				let inside = 0;
				for (const [what, first] of steps) {
					const [door, other] = first ? doors : [doors[1], doors[0]];
					if (what === 'sync') other.offer(shop, door.self, door.ownRow(shop));
					else if (what === 'enter') {
						if (door.attempt('enter', 'visitor').kind === 'admitted') inside++;
					} else if (inside > 0) {
						// Someone inside walks out by this door, whatever it has heard of the other's entries.
						if (door.attempt('exit', 'visitor').kind !== 'admitted') return false;
						inside--;
					}
					if (inside > capacity) return false;
				}
				doors[0].offer(shop, back, doors[1].ownRow(shop));
				doors[1].offer(shop, front, doors[0].ownRow(shop));
				return doors.every((door) => door.ledger(shop)!.occupancy() === inside);
			},
		),
		{ numRuns: 500 },
	);
	t.pass();
});

test('staff need no permit and are counted apart', (t) => {
	const counter = new SensorCounter(tinyLayout({ store: 1 }), front);
	lease(counter, new SensorCounter(tinyLayout({ store: 1 }), back));
	t.is(counter.attempt('enter', 'visitor').kind, 'admitted');
	t.is(counter.attempt('enter', 'staff').kind, 'admitted');
	t.is(counter.ledger(shop)!.occupancy(), 1);
	t.is(counter.ledger(shop)!.staff(), 1);
});

test('whoever passes a staff entrance is staff', (t) => {
	const counter = new SensorCounter(tinyLayout(), sensorId('staff'));
	t.is(counter.attempt('enter', 'visitor').kind, 'admitted');
	t.is(counter.ledger(mall)!.staff(), 1);
	t.is(counter.ledger(mall)!.occupancy(), 0);
});

test('a street entrance needs room in the mall and in its floor', (t) => {
	const layout = tinyLayout({ mall: 10, floor: 2 });
	const counter = new SensorCounter(layout, sensorId('north'));
	const south = new SensorCounter(layout, sensorId('south'));
	lease(counter, south, mall);
	t.deepEqual(counter.attempt('enter', 'visitor'), { kind: 'short', areas: [], leases: [ground] });
	lease(counter, south, ground);
	const entry = counter.attempt('enter', 'visitor');
	t.deepEqual(entry.kind === 'admitted' ? Object.fromEntries(entry.delta) : null, { mall: 1, ground: 1 });
	t.deepEqual(counter.attempt('enter', 'visitor'), { kind: 'short', areas: [ground], leases: [] });
});

test('a gift moves permits and the receiver sees them once it counts the giver row', (t) => {
	const giver = new SensorCounter(tinyLayout({ store: 4 }), front);
	const receiver = new SensorCounter(tinyLayout({ store: 4 }), back);
	lease(giver, receiver);
	t.is(giver.give(shop, back, 1), 1);
	t.is(giver.permits(shop), 1);
	t.is(receiver.permits(shop), 2);
	receiver.offer(shop, front, giver.ownRow(shop));
	t.is(receiver.permits(shop), 3);
});

test('a sensor cannot give more permits than it holds', (t) => {
	const giver = new SensorCounter(tinyLayout({ store: 4 }), front);
	lease(giver, new SensorCounter(tinyLayout({ store: 4 }), back));
	t.is(giver.give(shop, back, 10), 2);
	t.is(giver.permits(shop), 0);
	t.is(giver.give(shop, back, 1), 0);
});

test('rows that claim to be the sensor own are ignored', (t) => {
	const counter = new SensorCounter(tinyLayout(), front);
	const forged = { ...EMPTY_ROW, exits: 50 };
	t.is(counter.offer(shop, front, forged), null);
	t.is(counter.ledger(shop)!.occupancy(), 0);
});

type Door = 0 | 1 | 2;
type Step =
	| { action: 'enter' | 'rush' | 'rush-all' | 'exit' | 'ask' | 'lease' | 'move' | 'settle'; door: Door; to: Door }
	| { action: 'give' | 'sync' | 'take'; door: Door; to: Door }
	| { action: 'deliver'; door: Door; to: Door };

/**
 * The escrow invariant with leases, takes and reassignments (counting/lease.ts): at three
 * doors of a store, any interleaving of entries, exits, gifts, partial syncs, lease
 * requests delivered late or never, takes at any moment (no liveness needed: safety must
 * not depend on it), and moves to another granter or to granting oneself, asked again,
 * delivered late, while late leases of the old granter still arrive, never lets the true
 * occupancy pass capacity. The tracker's registry decides takes and moves.
 */
test('no interleaving of entries, gifts, syncs, leases, takes and granter moves exceeds capacity', (t) => {
	const door = fc.constantFrom<Door>(0, 1, 2);
	const step = fc.record({ action: fc.constantFrom<Step['action']>('enter', 'rush', 'rush-all', 'exit', 'give', 'sync', 'sync', 'ask', 'deliver', 'lease', 'lease', 'take', 'take', 'move', 'settle'), door, to: door }) as fc.Arbitrary<Step>;
	fc.assert(
		fc.property(fc.integer({ min: 1, max: 6 }), fc.array(step, { maxLength: 200 }), (capacity, steps) => {
			const layout = tinyLayout({ store: capacity, sideDoor: true });
			const ids: SensorId[] = [front, back, side];
			const doors = ids.map((id) => new SensorCounter(layout, id));
			const tracker = new GranterRegistry(layout);
			const requests: { holder: Door; granter: SensorId; request: NonNullable<ReturnType<SensorCounter['leaseAsk']>>['request'] }[] = [];
			const moves: { holder: Door; gen: number; to: SensorId; floor: number }[] = [];
			const moving: ({ gen: number; floor: number } | undefined)[] = [undefined, undefined, undefined];
			let truth = 0;
			for (const { action, door: i, to: j } of steps) {
				const self = doors[i]!;
				if (action === 'enter' && self.attempt('enter', 'visitor').kind === 'admitted') truth++;
				if (action === 'rush') while (self.attempt('enter', 'visitor').kind === 'admitted') truth++; // a crowd at one door
				if (action === 'rush-all') for (const each of doors) while (each.attempt('enter', 'visitor').kind === 'admitted') truth++;
				if (action === 'exit' && truth > 0 && self.attempt('exit', 'visitor').kind === 'admitted') truth--;
				if (action === 'give') self.give(shop, ids[j]!, 1);
				if (action === 'sync' && i !== j) doors[j]!.offer(shop, ids[i]!, self.ownRow(shop));
				if (action === 'ask') {
					const ask = self.leaseAsk(shop, 1 + 2 * j);
					if (ask) requests.push({ holder: i, granter: ask.granter, request: ask.request });
				}
				if (action === 'lease') {
					// Asked, granted and the granter's row back at once.
					const ask = self.leaseAsk(shop, 1 + 2 * j);
					const granter = ask ? doors[ids.indexOf(ask.granter)]! : null;
					if (ask && granter?.grant(shop, ids[i]!, ask.request)) self.offer(shop, ask.granter, granter.ownRow(shop));
				}
				if (action === 'deliver' && requests.length > 0) {
					const { holder, granter, request } = requests.splice(j % requests.length, 1)[0]!;
					doors[ids.indexOf(granter)]!.grant(shop, ids[holder]!, request);
				}
				if (action === 'take' && i !== j) {
					const target = self.reclaimable(shop, ids[j]!);
					if (target && tracker.take(shop, ids[j]!, ids[i]!, target.gen, target.total).ok) self.recordTake(shop, ids[j]!, target.total);
				}
				if (action === 'move') {
					// As the peer does: hold the outflow at the floor told to the tracker until the move is made.
					const ledger = self.ledger(shop)!;
					const current = ledger.assignmentOf(ids[i]!)!;
					const floor = moving[i]?.floor ?? (current.granter === ids[i] ? ledger.outflowOf(ids[i]!) : ledger.capOf(ids[i]!));
					moving[i] = { gen: moving[i]?.gen ?? current.gen, floor };
					self.limit(shop, floor);
					moves.push({ holder: i, gen: moving[i]!.gen, to: ids[j]!, floor });
				}
				if (action === 'settle' && moves.length > 0) {
					const { holder, gen, to, floor } = moves.splice(j % moves.length, 1)[0]!;
					tracker.reassign(shop, ids[holder]!, gen, to, floor);
					const assignment = tracker.assignment(shop, ids[holder]!)!;
					if (assignment.gen > 0) doors[holder]!.assign(shop, { ...assignment, sig: 'signed by the tracker' });
					if (moving[holder] && assignment.gen > moving[holder]!.gen) {
						moving[holder] = undefined;
						doors[holder]!.limit(shop, null);
					}
				}
				if (truth > capacity) return false;
			}
			return true;
		}),
		{ numRuns: 5000 },
	);
	t.pass();
});

/** The same without leases' help: a mutant that ignores the cap must be caught by the test above. */
test('the property test catches a holder that spends past its lease', (t) => {
	const layout = tinyLayout({ store: 2 });
	const holder = new SensorCounter(layout, front);
	const granter = new SensorCounter(layout, back);
	const tracker = new GranterRegistry(layout);
	// Holder holds 1 permit, no lease: the granter takes it, then the granter spends it.
	const target = granter.reclaimable(shop, front)!;
	t.true(tracker.take(shop, front, back, target.gen, target.total).ok);
	granter.recordTake(shop, front, target.total);
	lease(granter, holder);
	t.is(granter.attempt('enter', 'visitor').kind, 'admitted');
	t.is(granter.attempt('enter', 'visitor').kind, 'admitted');
	t.is(holder.permits(shop), 1, 'the holder does not know yet');
	t.not(holder.attempt('enter', 'visitor').kind, 'admitted', 'but without a lease it cannot spend it');
});

test('a granter that comes back after taking: what it took before is counted against the holder before its row arrives', (t) => {
	const layout = tinyLayout({ store: 12, sideDoor: true });
	const tracker = new GranterRegistry(layout);
	const holder = new SensorCounter(layout, side); // its default granter is shop-front
	const front0 = new SensorCounter(layout, front);
	// The front door takes back the side door's whole share (it never got a lease), then the side door moves away and back.
	const target = front0.reclaimable(shop, side)!;
	t.true(tracker.take(shop, side, front, target.gen, target.total).ok);
	t.true(tracker.reassign(shop, side, 0, back, 0).ok);
	t.true(tracker.reassign(shop, side, 1, front, 0).ok);
	const assignment = tracker.assignment(shop, side)!;
	t.like(assignment, { gen: 2, granter: front, formerTaken: 0, granterTaken: target.total });
	holder.assign(shop, { ...assignment, sig: 'signed by the tracker' });
	// The front door's row with its take has not reached the side door: the tracker's word is enough.
	t.is(holder.permits(shop), 4 - target.total);
	t.is(holder.permits(shop), 0, 'nothing left to spend twice');
});
