import test from 'ava';
import fc from 'fast-check';
import { areaId, sensorId, type SensorId } from '../source/model/ids.js';
import { SensorCounter } from '../source/counting/sensor-counter.js';
import { tinyLayout } from './helpers/tiny-layout.js';

const shop = areaId('shop');
const mall = areaId('mall');
const ground = areaId('ground');
const front = sensorId('shop-front');
const back = sensorId('shop-back');

test('a sensor starts with its share of the area capacity', (t) => {
	const counter = new SensorCounter(tinyLayout({ store: 3 }), front);
	const other = new SensorCounter(tinyLayout({ store: 3 }), back);
	t.is(counter.permits(shop) + other.permits(shop), 3);
	t.is(counter.permits(shop), 2);
});

test('an entry consumes a local permit and an exit returns one', (t) => {
	const counter = new SensorCounter(tinyLayout(), front);
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
	t.is(counter.attempt('enter', 'visitor').kind, 'admitted');
	t.deepEqual(counter.attempt('enter', 'visitor'), { kind: 'short', areas: [shop] });
});

test('refuses an entry when the store is full', (t) => {
	const front_ = new SensorCounter(tinyLayout({ store: 2 }), front);
	const back_ = new SensorCounter(tinyLayout({ store: 2 }), back);
	t.is(front_.attempt('enter', 'visitor').kind, 'admitted');
	t.is(back_.attempt('enter', 'visitor').kind, 'admitted');
	front_.merge(shop, back, back_.ownRow(shop));
	t.deepEqual(front_.attempt('enter', 'visitor'), { kind: 'refused', reason: 'full', area: shop });
});

test('refuses an exit from an area nobody is known to be in', (t) => {
	const counter = new SensorCounter(tinyLayout(), front);
	t.deepEqual(counter.attempt('exit', 'visitor'), { kind: 'refused', reason: 'empty', area: shop });
});

test('staff need no permit and are counted apart', (t) => {
	const counter = new SensorCounter(tinyLayout({ store: 1 }), front);
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
	const counter = new SensorCounter(tinyLayout({ mall: 10, floor: 2 }), sensorId('north'));
	const entry = counter.attempt('enter', 'visitor');
	t.deepEqual(entry.kind === 'admitted' ? Object.fromEntries(entry.delta) : null, { mall: 1, ground: 1 });
	t.deepEqual(counter.attempt('enter', 'visitor'), { kind: 'short', areas: [ground] });
});

test('a gift moves permits and the receiver sees them once it merges the giver row', (t) => {
	const giver = new SensorCounter(tinyLayout({ store: 4 }), front);
	const receiver = new SensorCounter(tinyLayout({ store: 4 }), back);
	t.is(giver.give(shop, back, 1), 1);
	t.is(giver.permits(shop), 1);
	t.is(receiver.permits(shop), 2);
	receiver.merge(shop, front, giver.ownRow(shop));
	t.is(receiver.permits(shop), 3);
});

test('a sensor cannot give more permits than it holds', (t) => {
	const giver = new SensorCounter(tinyLayout({ store: 4 }), front);
	t.is(giver.give(shop, back, 10), 2);
	t.is(giver.permits(shop), 0);
	t.is(giver.give(shop, back, 1), 0);
});

test('rows that claim to be the sensor own are ignored', (t) => {
	const counter = new SensorCounter(tinyLayout(), front);
	const forged = { entries: 0, exits: 50, staffEntries: 0, staffExits: 0, refused: 0, given: new Map() };
	t.false(counter.merge(shop, front, forged));
	t.is(counter.ledger(shop)!.occupancy(), 0);
});

type Step = { sensor: 0 | 1; action: 'enter' | 'exit' | 'give' | 'sync' };

/**
 * Any interleaving of entries, exits, gifts and partial syncs at the two doors of a store
 * never lets the true occupancy pass capacity: the escrow invariant.
 */
test('no interleaving of entries, exits, gifts and syncs at two doors exceeds capacity', (t) => {
	fc.assert(
		fc.property(
			fc.integer({ min: 1, max: 6 }),
			fc.array(fc.record({ sensor: fc.constantFrom<0 | 1>(0, 1), action: fc.constantFrom<Step['action']>('enter', 'exit', 'give', 'sync') }), { maxLength: 200 }),
			(capacity, steps) => {
				const layout = tinyLayout({ store: capacity });
				const doors: [SensorCounter, SensorCounter] = [new SensorCounter(layout, front), new SensorCounter(layout, back)];
				const ids: [SensorId, SensorId] = [front, back];
				let truth = 0;
				for (const step of steps) {
					const self = doors[step.sensor];
					const other = doors[1 - step.sensor]!;
					if (step.action === 'enter' && self.attempt('enter', 'visitor').kind === 'admitted') truth++;
					if (step.action === 'exit' && truth > 0 && self.attempt('exit', 'visitor').kind === 'admitted') truth--;
					if (step.action === 'give') self.give(shop, ids[1 - step.sensor]!, 1);
					if (step.action === 'sync') other.merge(shop, ids[step.sensor], self.ownRow(shop));
					if (truth > capacity) return false;
				}
				return true;
			},
		),
		{ numRuns: 2000 },
	);
	t.pass();
});
