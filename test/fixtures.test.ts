import test from 'ava';
import { readFile } from 'node:fs/promises';
import { BLUEPRINTS, denseMall, megaMall } from '../fixtures/mall-layouts.js';
import type { MallJson } from '../source/model/fixture-schema.js';
import { parseMall } from '../source/model/load-mall.js';

const fixture = async (name: string): Promise<MallJson> => JSON.parse(await readFile(new URL(`../../fixtures/malls/${name}.json`, import.meta.url), 'utf8')) as MallJson;

for (const blueprint of BLUEPRINTS) {
	const { name } = blueprint();
	test(`fixtures/malls/${name}.json is what the generator builds, and builds again the same`, async (t) => {
		const built = blueprint();
		t.deepEqual(blueprint(), built, 'the same layout every run');
		const { accounts, ...layout } = await fixture(name);
		t.deepEqual(layout, JSON.parse(JSON.stringify(built.mall)), 'the shipped layout is the generated one');
		// One account per sensor, named after it, and the observers: nothing else.
		const expected = [...built.mall.sensors.map((sensor) => `sensor:${sensor.id}:${sensor.id}`), ...built.observers.map((user) => `observer:${user}:`)];
		t.deepEqual(accounts.map((account) => `${account.role}:${account.user}:${account.sensor ?? ''}`), expected);
		t.notThrows(() => parseMall({ accounts, ...layout }, `${name}.json`));
	});
}

test('the mega mall has at least 1,000 sensors, 600 stores and 10 floors', (t) => {
	const mall = parseMall({ ...megaMall().mall, accounts: [] }, 'mega.json');
	t.true(mall.sensors.size >= 1000, `${mall.sensors.size} sensors`);
	t.true(mall.floors.reduce((sum, floor) => sum + floor.stores.length, 0) >= 600);
	t.true(mall.floors.length >= 10);
});

test('the dense mall has many doors on small areas', (t) => {
	const { mall } = denseMall();
	const stores = mall.floors.flatMap((floor) => floor.stores);
	for (const store of stores) {
		const doors = mall.sensors.filter((sensor) => sensor.kind === 'store-door' && sensor.store === store.id).length;
		t.true(doors >= 3 && store.capacity <= 8, `${store.id}: ${doors} doors, capacity ${store.capacity}`);
	}
	t.true(mall.sensors.filter((sensor) => sensor.kind === 'entrance').length >= 5);
});
