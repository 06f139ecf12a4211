import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { MALL, areaId, sensorId } from '../source/model/ids.js';
import { FixtureError, loadMall, loadPasswords, parseMall } from '../source/model/load-mall.js';
import { verifyPassword } from '../source/security/password.js';

const malls = (name: string) => fileURLToPath(new URL(`../../fixtures/malls/${name}`, import.meta.url));
const badMalls = (name: string) => fileURLToPath(new URL(`../../test/fixtures/bad-malls/${name}`, import.meta.url));

// Mutations put wrong types where the fixture's type says otherwise: that is their point.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;
const demoJson: Loose = JSON.parse(await readFile(malls('demo.json'), 'utf8'));
const demo = parseMall(demoJson, 'demo.json');

const stores = (mall: typeof demo) => mall.floors.reduce((count, floor) => count + floor.stores.length, 0);

test('the demo fixture loads with its floors, stores, sensors and accounts', async (t) => {
	const mall = await loadMall(malls('demo.json'));
	t.deepEqual([mall.floors.length, stores(mall), mall.sensors.size, mall.accounts.size], [3, 12, 21, 23]);
	t.is(mall.name, 'Riverside (demo)');
	t.is(mall.areas.get(MALL)?.capacity, 150);
});

test('the large fixture loads with at least 5 floors, 100 stores and 150 sensors', async (t) => {
	const mall = await loadMall(malls('large.json'));
	t.deepEqual([mall.floors.length, stores(mall), mall.sensors.size, mall.accounts.size], [6, 120, 160, 161]);
});

test('every demo password verifies against its fixture hash', async (t) => {
	const passwords = await loadPasswords(malls('demo.passwords.json'));
	t.deepEqual([...passwords.keys()].sort(), [...demo.accounts.keys()].sort());
	const verified = await Promise.all([...demo.accounts.values()].map((account) => verifyPassword(passwords.get(account.user)!, account.password)));
	t.true(verified.every(Boolean));
});

test('large passwords verify against their fixture hashes, a handful of them', async (t) => {
	const [mall, passwords] = await Promise.all([loadMall(malls('large.json')), loadPasswords(malls('large.passwords.json'))]);
	t.is(passwords.size, mall.accounts.size);
	const accounts = [...mall.accounts.values()];
	for (const account of [accounts[0]!, accounts[7]!, accounts[100]!, mall.accounts.get('ops')!]) {
		t.true(await verifyPassword(passwords.get(account.user)!, account.password), account.user);
	}
	t.false(await verifyPassword(passwords.get('ops')!, accounts[0]!.password), 'one account\'s password does not open another');
});

test('an entrance moves a person between the street and the mall and its floor', (t) => {
	t.like(demo.sensors.get(sensorId('north-entrance')), {
		kind: 'entrance',
		name: 'North entrance',
		inward: { enters: [MALL, areaId('ground')], leaves: [] },
		outward: { enters: [], leaves: [MALL, areaId('ground')] },
		areas: [MALL, areaId('ground')],
		staffOnly: false,
	});
});

test('a staff entrance moves like an entrance but admits staff only', (t) => {
	t.like(demo.sensors.get(sensorId('staff-door')), {
		kind: 'staff-entrance',
		inward: { enters: [MALL, areaId('ground')], leaves: [] },
		outward: { enters: [], leaves: [MALL, areaId('ground')] },
		areas: [MALL, areaId('ground')],
		staffOnly: true,
	});
});

test('an escalator moves a person from its from floor to its to floor, and back on exit', (t) => {
	t.like(demo.sensors.get(sensorId('escalator-first-ground')), {
		kind: 'escalator',
		inward: { enters: [areaId('ground')], leaves: [areaId('first')] },
		outward: { enters: [areaId('first')], leaves: [areaId('ground')] },
		areas: [areaId('ground'), areaId('first')],
		staffOnly: false,
	});
});

test('a store door moves a person between the floor and the store, counting the store only', (t) => {
	t.like(demo.sensors.get(sensorId('bakery-door')), {
		kind: 'store-door',
		inward: { enters: [areaId('bakery')], leaves: [] },
		outward: { enters: [], leaves: [areaId('bakery')] },
		areas: [areaId('bakery')],
		staffOnly: false,
	});
});

test('sensorsOf lists, for every area, the sensors that change its count in fixture order', (t) => {
	const of = (area: string) => demo.sensorsOf.get(areaId(area));
	t.deepEqual(of('mall'), ['north-entrance', 'south-entrance', 'staff-door']);
	t.deepEqual(of('ground'), ['north-entrance', 'south-entrance', 'staff-door', 'escalator-ground-first', 'escalator-first-ground']);
	t.deepEqual(of('first'), ['escalator-ground-first', 'escalator-first-ground', 'escalator-first-second', 'escalator-second-first']);
	t.deepEqual(of('fashion'), ['fashion-door', 'fashion-side-door']);
	t.deepEqual([...demo.sensorsOf.keys()], [...demo.areas.keys()]);
});

test('areas come mall first, then floors, then stores, each linked to its parent', (t) => {
	const areas = [...demo.areas.values()];
	t.deepEqual(areas.slice(0, 4).map((area) => [area.id, area.kind, area.parent]), [
		['mall', 'mall', null],
		['ground', 'floor', 'mall'],
		['first', 'floor', 'mall'],
		['second', 'floor', 'mall'],
	]);
	t.like(demo.areas.get(areaId('bakery')), { kind: 'store', name: 'Bakery', capacity: 8, parent: 'ground' });
	t.true(areas.slice(4).every((area) => area.kind === 'store'));
	t.deepEqual(demo.floors[2], { floor: areaId('second'), stores: ['food-court', 'arcade', 'salon', 'gallery'].map(areaId) });
});

test('a sensor without a name is named by its id', (t) => {
	const fixture = structuredClone(demoJson);
	delete fixture.sensors[0].name;
	t.is(parseMall(fixture, 'demo.json').sensors.get(sensorId('north-entrance'))?.name, 'north-entrance');
});

test('accounts resolve to their sensor, observers to none', (t) => {
	t.like(demo.accounts.get('bakery-door'), { role: 'sensor', sensor: 'bakery-door' });
	t.like(demo.accounts.get('ops'), { role: 'observer', sensor: null });
	t.is(demo.accounts.get('ops')?.password.hash.length, 32);
});

/** A sensor taken out of the fixture with its accounts, so that nothing else refers to it. */
function withoutSensors(fixture: Loose, ...ids: string[]): void {
	fixture.sensors = fixture.sensors.filter((sensor: Loose) => !ids.includes(sensor.id));
	fixture.accounts = fixture.accounts.filter((account: Loose) => !ids.includes(account.sensor));
}

const refused = test.macro((t, mutate: (fixture: Loose) => void, message: string) => {
	const fixture = structuredClone(demoJson);
	mutate(fixture);
	const error = t.throws(() => parseMall(fixture, 'demo.json'), { instanceOf: FixtureError });
	t.is(error?.message, message);
});

const base64Bytes = (count: number) => Buffer.alloc(count, 7).toString('base64');

test('a missing field is required', refused, (f) => delete f.floors[1].name, 'demo.json: floors[1].name: is required');
test('a missing list is required', refused, (f) => delete f.sensors, 'demo.json: sensors: is required');
test('a name must be a string', refused, (f) => (f.floors[1].name = 5), 'demo.json: floors[1].name: must be a string, not 5');
test('a capacity must be a number', refused, (f) => (f.floors[0].capacity = '80'), 'demo.json: floors[0].capacity: must be a positive integer, not "80"');
test('a capacity must be positive', refused, (f) => (f.floors[0].stores[3].capacity = 0), 'demo.json: floors[0].stores[3].capacity: must be a positive integer, not 0');
test('a capacity must be whole', refused, (f) => (f.capacity = 2.5), 'demo.json: capacity: must be a positive integer, not 2.5');
test('floors must be a list', refused, (f) => (f.floors = {}), 'demo.json: floors: must be a list of floors, not an object');
test('a sensor kind must be a known one', refused, (f) => (f.sensors[2].kind = 'door'), 'demo.json: sensors[2].kind: must be one of entrance, staff-entrance, escalator, store-door, not "door"');
test('a sensor kind is required', refused, (f) => delete f.sensors[2].kind, 'demo.json: sensors[2].kind: is required');
test('a field of another sensor kind is unknown', refused, (f) => (f.sensors[0].store = 'bakery'), 'demo.json: sensors[0]: unknown field "store"');
test('an unknown field is named', refused, (f) => (f.floors[0].stores[1].colour = 'red'), 'demo.json: floors[0].stores[1]: unknown field "colour"');
test('an unknown top-level field is named', refused, (f) => (f.owner = 'someone'), 'demo.json: unknown field "owner"');
test('a floor must be an object', refused, (f) => (f.floors = [f.floors[0], 'ground']), 'demo.json: floors[1]: must be an object, not "ground"');
test('an id must not be empty', refused, (f) => (f.floors[2].stores[0].id = ''), 'demo.json: floors[2].stores[0].id: must not be empty');
test('an id must be lowercase', refused, (f) => (f.floors[2].stores[0].id = 'Food Court'), 'demo.json: floors[2].stores[0].id: must be lowercase letters, digits, ".", "_" or "-", starting with a letter or digit, not "Food Court"');
test('an id must not start with a dot', refused, (f) => (f.sensors[0].id = '.north'), 'demo.json: sensors[0].id: must be lowercase letters, digits, ".", "_" or "-", starting with a letter or digit, not ".north"');
test('an id used by a store and a sensor is a duplicate', refused, (f) => (f.sensors[20].id = 'bakery'), 'demo.json: sensors[20].id: duplicate id "bakery", first used at floors[0].stores[0].id');
test('the duplicate is the later use in the file', refused, (f) => (f.floors[0].stores[1].id = 'first'), 'demo.json: floors[1].id: duplicate id "first", first used at floors[0].stores[1].id');
test('an id may not be the mall\'s', refused, (f) => (f.floors[1].stores[2].id = 'mall'), 'demo.json: floors[1].stores[2].id: duplicate id "mall", reserved for the mall itself');
test('a sensor on an unknown floor is refused', refused, (f) => (f.sensors[1].floor = 'basement'), 'demo.json: sensors[1].floor: unknown floor "basement"');
test('a store is not a floor', refused, (f) => (f.sensors[5].to = 'bakery'), 'demo.json: sensors[5].to: unknown floor "bakery"');
test('a door to an unknown store is refused', refused, (f) => (f.sensors[7].store = 'bakrey'), 'demo.json: sensors[7].store: unknown store "bakrey"');
test('an escalator must join two floors', refused, (f) => (f.sensors[3].to = 'ground'), 'demo.json: sensors[3].to: must be another floor than from ("ground")');
test('a store needs a door', refused, (f) => withoutSensors(f, 'bakery-door'), 'demo.json: floors[0].stores[0]: store "bakery" has no store-door sensor');
test('a store with two doors keeps one when the other goes', refused, (f) => withoutSensors(f, 'fashion-side-door', 'salon-door'), 'demo.json: floors[2].stores[2]: store "salon" has no store-door sensor');
test(
	'a floor must be reachable from the street',
	refused,
	(f) => withoutSensors(f, 'escalator-first-second', 'escalator-second-first'),
	'demo.json: floors[2]: floor "second" cannot be reached from the street: no entrance on it and no escalator to it from a reachable floor',
);
test('a store may not hold more than its floor', refused, (f) => (f.floors[0].stores[2].capacity = 81), 'demo.json: floors[0].stores[2].capacity: must not exceed its floor\'s capacity (80)');
test('a floor may not hold more than the mall', refused, (f) => (f.floors[1].capacity = 151), 'demo.json: floors[1].capacity: must not exceed the mall\'s capacity (150)');
test('an account for an unknown sensor is refused', refused, (f) => (f.accounts[3].sensor = 'nowhere'), 'demo.json: accounts[3].sensor: unknown sensor "nowhere"');
test('a sensor account must name its sensor', refused, (f) => delete f.accounts[0].sensor, 'demo.json: accounts[0].sensor: is required for a sensor account');
test('an observer account must not name a sensor', refused, (f) => (f.accounts[21].sensor = 'north-entrance'), 'demo.json: accounts[21].sensor: must not be set for an observer account');
test('a role must be a known one', refused, (f) => (f.accounts[22].role = 'admin'), 'demo.json: accounts[22].role: must be one of sensor, observer, not "admin"');
test('a user may have one account only', refused, (f) => (f.accounts[22].user = 'ops'), 'demo.json: accounts[22].user: duplicate user "ops", first used at accounts[21].user');
test('a sensor may have no account', (t) => {
	const fixture = structuredClone(demoJson);
	fixture.accounts = fixture.accounts.filter((account: Loose) => account.user !== 'bakery-door');
	t.is(parseMall(fixture, 'demo.json').accounts.size, 22);
});
test('a password must be scrypt', refused, (f) => (f.accounts[0].password.algorithm = 'bcrypt'), 'demo.json: accounts[0].password.algorithm: must be "scrypt", not "bcrypt"');
test('a salt must be base64', refused, (f) => (f.accounts[1].password.salt = 'not base64!'), 'demo.json: accounts[1].password.salt: must be a base64 string, not "not base64!"');
test('a salt must be at least 16 bytes', refused, (f) => (f.accounts[1].password.salt = base64Bytes(8)), 'demo.json: accounts[1].password.salt: must be at least 16 bytes of base64, not 8');
test('a hash must be 32 bytes', refused, (f) => (f.accounts[2].password.hash = base64Bytes(31)), 'demo.json: accounts[2].password.hash: must be 32 bytes of base64, not 31');
test('scrypt N must be a power of two', refused, (f) => (f.accounts[2].password.N = 10000), 'demo.json: accounts[2].password.N: must be a power of two ≥ 1024, not 10000');
test('scrypt N must be at least 1024', refused, (f) => (f.accounts[2].password.N = 512), 'demo.json: accounts[2].password.N: must be a power of two ≥ 1024, not 512');
test('scrypt N must not be absurd', refused, (f) => (f.accounts[2].password.N = 2 ** 24), 'demo.json: accounts[2].password.N: must be at most 1048576, not 16777216');

test('the first problem in the file is reported, whatever order the checks run in', refused, (f) => {
	f.accounts[5].password.N = 3;
	f.sensors[4].kind = 'lift';
	f.floors[2].stores[1].capacity = -1;
}, 'demo.json: floors[2].stores[1].capacity: must be a positive integer, not -1');

test('the first problem is found by position even when sections come in another order', refused, (f) => {
	const { name, capacity, floors, sensors, accounts } = f;
	for (const key of Object.keys(f)) delete f[key];
	Object.assign(f, { name, capacity, sensors, floors, accounts });
	f.floors[0].name = 7;
	f.sensors[9].name = 8;
}, 'demo.json: sensors[9].name: must be a string, not 8');

test('fields out of the usual order are reported in file order too', refused, (f) => {
	f.floors[0].stores[0] = { capacity: 'many', name: 3, id: 'bakery' };
}, 'demo.json: floors[0].stores[0].capacity: must be a positive integer, not "many"');

test('a shape problem is reported before any reference problem', refused, (f) => {
	f.sensors[0].floor = 'basement';
	f.accounts[22].password.salt = '';
}, 'demo.json: accounts[22].password.salt: must be at least 16 bytes of base64, not 0');

test('a misspelt door is reported as such, not as a store without a door', refused, (f) => (f.sensors[20].store = 'galery'), 'demo.json: sensors[20].store: unknown store "galery"');

test('a fixture that is not an object is refused', (t) => {
	const error = t.throws(() => parseMall([], 'demo.json'), { instanceOf: FixtureError });
	t.is(error?.message, 'demo.json: must be a JSON object, not a list');
});

test('the error names the file, the path and the problem apart', (t) => {
	const fixture = structuredClone(demoJson);
	fixture.floors[2].stores[3].capacity = 0;
	const error = t.throws(() => parseMall(fixture, 'malls/x.json'), { instanceOf: FixtureError });
	t.like(error, { file: 'malls/x.json', path: 'floors[2].stores[3].capacity', problem: 'must be a positive integer, not 0' });
});

test('a fixture that is not valid JSON says where', async (t) => {
	const file = badMalls('trailing-comma.json');
	const error = await t.throwsAsync(loadMall(file), { instanceOf: FixtureError });
	t.is(error?.message, `${file}: not valid JSON: Expected double-quoted property name in JSON at line 6 column 53`);
	t.is(error?.path, '');
});

test('a missing fixture cannot be read', async (t) => {
	const error = await t.throwsAsync(loadMall('no/such/mall.json'), { instanceOf: FixtureError });
	t.is(error?.message, 'no/such/mall.json: cannot read: ENOENT: no such file or directory');
});

const passwordsRefused = test.macro(async (t, text: string, message: string) => {
	const directory = await mkdtemp(join(tmpdir(), 'footfall-passwords-'));
	t.teardown(() => rm(directory, { recursive: true }));
	const file = join(directory, 'x.passwords.json');
	await writeFile(file, text);
	const error = await t.throwsAsync(loadPasswords(file), { instanceOf: FixtureError });
	t.is(error?.message.replace(`${file}: `, ''), message);
});

test('a password must be a string', passwordsRefused, '{"ops": "a", "floor-manager": 5}', 'floor-manager: must be a string, not 5');
test('a password must not be empty', passwordsRefused, '{"ops": ""}', 'ops: must not be empty');
test('a passwords file must be an object', passwordsRefused, '["ops"]', 'must be a JSON object, not a list');
test('a passwords file names valid users', passwordsRefused, '{"Ops Team": "x"}', '["Ops Team"]: user must be lowercase letters, digits, ".", "_" or "-", starting with a letter or digit, not "Ops Team"');
test('a passwords file must be valid JSON', passwordsRefused, '{"ops": "x",}', 'not valid JSON: Expected double-quoted property name in JSON at line 1 column 13');
