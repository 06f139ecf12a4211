import { layoutFromJson, type LayoutJson } from '../../source/model/layout-codec.js';
import type { MallLayout } from '../../source/model/mall.js';

/**
 * A small mall for tests of the core, built without the fixture loader: one floor with
 * two street entrances and a store with two doors, so every area has two sensors that
 * admit into it concurrently.
 */
export function tinyLayout({ mall = 10, floor = 8, store = 3, sideDoor = false } = {}): MallLayout {
	const door = (id: string, name: string) => ({ id, kind: 'store-door' as const, name, staffOnly: false, inward: { enters: ['shop'], leaves: [] }, outward: { enters: [], leaves: ['shop'] } });
	const json: LayoutJson = {
		name: 'tiny',
		areas: [
			{ id: 'mall', kind: 'mall', name: 'Mall', capacity: mall, parent: null },
			{ id: 'ground', kind: 'floor', name: 'Ground', capacity: floor, parent: 'mall' },
			{ id: 'shop', kind: 'store', name: 'Shop', capacity: store, parent: 'ground' },
		],
		sensors: [
			{ id: 'north', kind: 'entrance', name: 'North', staffOnly: false, inward: { enters: ['mall', 'ground'], leaves: [] }, outward: { enters: [], leaves: ['mall', 'ground'] } },
			{ id: 'south', kind: 'entrance', name: 'South', staffOnly: false, inward: { enters: ['mall', 'ground'], leaves: [] }, outward: { enters: [], leaves: ['mall', 'ground'] } },
			{ id: 'staff', kind: 'staff-entrance', name: 'Staff', staffOnly: true, inward: { enters: ['mall', 'ground'], leaves: [] }, outward: { enters: [], leaves: ['mall', 'ground'] } },
			door('shop-front', 'Shop front'),
			door('shop-back', 'Shop back'),
			...(sideDoor ? [door('shop-side', 'Shop side')] : []),
		],
		floors: [{ floor: 'ground', stores: ['shop'] }],
	};
	const result = layoutFromJson(json);
	if (!result.ok) throw new Error(result.error);
	return result.layout;
}
