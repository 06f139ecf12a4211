import test from 'ava';
import { areaId } from '../source/model/ids.js';
import { Router } from '../source/network/routing.js';
import type { MemberRecord } from '../source/protocol/messages.js';
import { tinyLayout } from './helpers/tiny-layout.js';

const member = (id: string, role: 'sensor' | 'observer', areas: string[] | null = null): MemberRecord => ({
	id, role, sensor: role === 'sensor' ? id : null, areas, host: 'h', port: 1, signKey: 'k', agreeKey: 'k', incarnation: 1, epoch: 1, sig: 's',
});

const members = [
	member('north', 'sensor'),
	member('south', 'sensor'),
	member('staff', 'sensor'),
	member('shop-front', 'sensor'),
	member('shop-back', 'sensor'),
	member('ops', 'observer'),
	member('floor-watch', 'observer', ['ground']),
];

const recipients = test.macro((t, self: string, area: string, expected: string[]) => {
	const router = new Router(tinyLayout(), self);
	t.deepEqual([...router.recipients(areaId(area), { version: 1, members: () => members })].sort(), expected.sort());
});

test('a store event goes to the store other door and the observers of all areas only', recipients, 'shop-front', 'shop', ['shop-back', 'ops']);
test('a floor event goes to the floor sensors and the observers of that floor', recipients, 'north', 'ground', ['south', 'staff', 'ops', 'floor-watch']);
test('a mall event goes to the mall sensors and the observers of all areas', recipients, 'south', 'mall', ['north', 'staff', 'ops']);
