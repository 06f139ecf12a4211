import { scryptSync } from 'node:crypto';
import { layoutFromJson, type LayoutJson } from '../model/layout-codec.js';
import { sensorId } from '../model/ids.js';
import type { Account, Mall } from '../model/mall.js';
import type { Random } from '../runtime/random.js';
import { HASH_BYTES, SALT_BYTES } from '../security/password.js';

/** Cheap scrypt for simulated accounts: a simulation checks thousands of logins. */
const SIM_SCRYPT = { N: 1024, r: 8, p: 1 } as const;

/**
 * The mall every simulation runs: small enough to be fast, shaped like a real one —
 * two floors joined by an escalator each way, two street entrances and a staff one, a
 * store with three doors, a kiosk with one (its only replica of its door's rows is the
 * observer), a store upstairs with two. Capacities come from the seed and are small, so
 * doors contend for the last places all the time.
 */
export function simulatedMall(random: Random): { mall: Mall; passwords: Map<string, string> } {
	const pick = (low: number, high: number): number => low + Math.floor(random.fraction() * (high - low + 1));
	const mall = pick(14, 40);
	const ground = pick(10, mall);
	const first = pick(6, mall);
	const door = (id: string, store: string) => ({ id, kind: 'store-door' as const, name: id, staffOnly: false, inward: { enters: [store], leaves: [] }, outward: { enters: [], leaves: [store] } });
	const entrance = (id: string, staffOnly = false) => ({ id, kind: staffOnly ? ('staff-entrance' as const) : ('entrance' as const), name: id, staffOnly, inward: { enters: ['mall', 'ground'], leaves: [] }, outward: { enters: [], leaves: ['mall', 'ground'] } });
	const json: LayoutJson = {
		name: 'simulated',
		areas: [
			{ id: 'mall', kind: 'mall', name: 'Mall', capacity: mall, parent: null },
			{ id: 'ground', kind: 'floor', name: 'Ground', capacity: ground, parent: 'mall' },
			{ id: 'first', kind: 'floor', name: 'First', capacity: first, parent: 'mall' },
			{ id: 'shop', kind: 'store', name: 'Shop', capacity: pick(3, Math.min(12, ground)), parent: 'ground' },
			{ id: 'kiosk', kind: 'store', name: 'Kiosk', capacity: pick(1, 4), parent: 'ground' },
			{ id: 'loft', kind: 'store', name: 'Loft', capacity: pick(2, Math.min(8, first)), parent: 'first' },
		],
		sensors: [
			entrance('north'),
			entrance('south'),
			entrance('staff', true),
			{ id: 'up', kind: 'escalator', name: 'up', staffOnly: false, inward: { enters: ['first'], leaves: ['ground'] }, outward: { enters: ['ground'], leaves: ['first'] } },
			{ id: 'down', kind: 'escalator', name: 'down', staffOnly: false, inward: { enters: ['ground'], leaves: ['first'] }, outward: { enters: ['first'], leaves: ['ground'] } },
			door('shop-front', 'shop'),
			door('shop-back', 'shop'),
			door('shop-side', 'shop'),
			door('kiosk-door', 'kiosk'),
			door('loft-door', 'loft'),
			door('loft-side', 'loft'),
		],
		floors: [
			{ floor: 'ground', stores: ['shop', 'kiosk'] },
			{ floor: 'first', stores: ['loft'] },
		],
	};
	const layout = layoutFromJson(json);
	if (!layout.ok) throw new Error(layout.error);
	const passwords = new Map<string, string>();
	const accounts = new Map<string, Account>();
	const account = (user: string, role: 'sensor' | 'observer'): void => {
		const password = `${user}-${random.bytes(6).toString('hex')}`;
		const salt = random.bytes(SALT_BYTES);
		passwords.set(user, password);
		accounts.set(user, { user, role, sensor: role === 'sensor' ? sensorId(user) : null, password: { algorithm: 'scrypt', salt, hash: scryptSync(password, salt, HASH_BYTES, SIM_SCRYPT), ...SIM_SCRYPT } });
	};
	for (const sensor of layout.layout.sensors.keys()) account(sensor, 'sensor');
	account('ops', 'observer');
	return { mall: { ...layout.layout, accounts }, passwords };
}
