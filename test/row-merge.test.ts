import test from 'ava';
import fc from 'fast-check';
import { AreaLedger } from '../source/counting/area-ledger.js';
import { EMPTY_ROW, mergeRows, rowCovers, type Row } from '../source/counting/row.js';
import { areaId, sensorId, type SensorId } from '../source/model/ids.js';

const sensors = ['a', 'b', 'c'].map(sensorId);

const row = fc
	.record({
		entries: fc.nat(50),
		exits: fc.nat(50),
		staffEntries: fc.nat(5),
		staffExits: fc.nat(5),
		refused: fc.nat(5),
		given: fc.array(fc.tuple(fc.constantFrom(...sensors), fc.nat(20)), { maxLength: 3 }),
		taken: fc.array(fc.tuple(fc.constantFrom(...sensors), fc.nat(20)), { maxLength: 3 }),
		leases: fc.array(fc.tuple(fc.constantFrom(...sensors), fc.record({ gen: fc.nat(2), cap: fc.nat(20) })), { maxLength: 3 }),
		assignment: fc.option(fc.record({ gen: fc.integer({ min: 1, max: 3 }), granter: fc.constantFrom(...sensors), formerTaken: fc.nat(5), floor: fc.nat(5) })),
	})
	// Within one generation, the tracker makes exactly one assignment: equal generations are equal.
	.map((r): Row => ({ ...r, given: new Map(r.given), taken: new Map(r.taken), leases: new Map(r.leases), assignment: r.assignment && { ...r.assignment, granter: sensors[r.assignment.gen % 3]!, formerTaken: r.assignment.gen, granterTaken: 0, floor: r.assignment.gen, sig: `gen ${r.assignment.gen}` } }));

const sorted = <V>(map: ReadonlyMap<SensorId, V>, keep: (value: V) => boolean) => Object.fromEntries([...map].filter(([, v]) => keep(v)).sort(([x], [y]) => x.localeCompare(y)));
const plain = (r: Row) => ({ ...r, given: sorted(r.given, (n) => n > 0), taken: sorted(r.taken, (n) => n > 0), leases: sorted(r.leases, () => true) });

test('merging rows is commutative, associative and idempotent', (t) => {
	fc.assert(
		fc.property(row, row, row, (a, b, c) => {
			const same = (x: Row, y: Row) => JSON.stringify(plain(x)) === JSON.stringify(plain(y));
			return same(mergeRows(a, b), mergeRows(b, a)) &&
				same(mergeRows(mergeRows(a, b), c), mergeRows(a, mergeRows(b, c))) &&
				same(mergeRows(a, a), a) &&
				rowCovers(mergeRows(a, b), a) && rowCovers(mergeRows(a, b), b);
		}),
	);
	t.pass();
});

/**
 * Each sensor's row only grows; replicas that receive any subset of its versions, in any
 * order and with duplicates, and then one anti-entropy round with the latest, agree —
 * though they hold back a row while it cannot be checked (an exit before its entry).
 * Sensor a admits visitors alone (no lease needed); b and c are staff entrances.
 */
test('replicas that see versions in any order with duplicates and losses agree after anti-entropy', (t) => {
	const versions = fc.array(fc.tuple(fc.constantFrom(...sensors), fc.nat(3), fc.nat(3)), { minLength: 1, maxLength: 40 });
	fc.assert(
		fc.property(versions, fc.array(fc.nat(), { minLength: 40, maxLength: 40 }), fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }), (steps, order, keep) => {
			// Build each sensor's growing history of row versions.
			const latest = new Map<SensorId, Row>();
			const history: [SensorId, Row][] = [];
			for (const [sensor, entries, exits] of steps) {
				const previous = latest.get(sensor) ?? EMPTY_ROW;
				const next = sensor === sensors[0]
					? { ...previous, entries: previous.entries + entries + exits, exits: previous.exits + exits }
					: { ...previous, staffEntries: previous.staffEntries + entries + exits, staffExits: previous.staffExits + exits };
				latest.set(sensor, next);
				history.push([sensor, next]);
			}
			const replica = () => new AreaLedger(areaId('shop'), 1000, sensors, new Map([[sensors[0]!, 1000]]), [sensors[0]!]);
			const inOrder = replica();
			for (const [sensor, version] of history) inOrder.offer(sensor, version);
			const shuffled = replica();
			const delivered = history.filter((_, index) => keep[index % keep.length]);
			const permuted = delivered.map((entry, index) => ({ entry, key: order[index % order.length]! })).sort((x, y) => x.key - y.key);
			for (const { entry } of [...permuted, ...permuted.slice(0, 3)]) shuffled.offer(entry[0], entry[1]);
			for (const [sensor, version] of latest) shuffled.offer(sensor, version); // anti-entropy
			return shuffled.occupancy() === inOrder.occupancy() && shuffled.staff() === inOrder.staff() &&
				sensors.every((s) => shuffled.permitsOf(s) === inOrder.permitsOf(s) && shuffled.pending(s) === undefined);
		}),
	);
	t.pass();
});
