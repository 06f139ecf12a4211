import type { Account, Mall } from '../../source/model/mall.js';
import { sensorId } from '../../source/model/ids.js';
import { hashPassword } from '../../source/security/password.js';
import { tinyLayout } from './tiny-layout.js';

/** Cheap scrypt for tests: the cost parameter is the fixture's to choose. */
const TEST_SCRYPT = { N: 1024, r: 8, p: 1 };

export const TINY_PASSWORDS = new Map([
	['north', 'north-pass'],
	['south', 'south-pass'],
	['staff', 'staff-pass'],
	['shop-front', 'front-pass'],
	['shop-back', 'back-pass'],
	['ops', 'ops-pass'],
	['shop-side', 'side-pass'], // only in a mall built with sideDoor
]);

/** The tiny layout with one account per sensor (user = sensor id) and an observer `ops`. */
export async function tinyMall(capacities?: Parameters<typeof tinyLayout>[0]): Promise<Mall> {
	const layout = tinyLayout(capacities);
	const accounts = new Map<string, Account>();
	for (const [user, password] of TINY_PASSWORDS) {
		if (user === 'shop-side' && !capacities?.sideDoor) continue;
		const role = user === 'ops' ? 'observer' : 'sensor';
		accounts.set(user, { user, role, sensor: role === 'sensor' ? sensorId(user) : null, password: await hashPassword(password, TEST_SCRYPT) });
	}
	return { ...layout, accounts };
}
