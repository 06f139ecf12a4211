import { z } from 'zod';
import { areaId, sensorId, type AreaId, type SensorId } from './ids.js';
import type { Area, MallLayout, Sensor } from './mall.js';

/**
 * The layout as the tracker sends it to members (who never see the fixture file, nor
 * its accounts), and back. Members validate it like anything else from the network.
 */
const ids = z.array(z.string().min(1).max(64));
const move = z.strictObject({ enters: ids, leaves: ids });
const layoutJson = z.strictObject({
	name: z.string(),
	areas: z.array(
		z.strictObject({
			id: z.string().min(1).max(64),
			kind: z.enum(['mall', 'floor', 'store']),
			name: z.string(),
			capacity: z.number().int().positive(),
			parent: z.string().nullable(),
		}),
	),
	sensors: z.array(
		z.strictObject({
			id: z.string().min(1).max(64),
			kind: z.enum(['entrance', 'staff-entrance', 'escalator', 'store-door']),
			name: z.string(),
			staffOnly: z.boolean(),
			inward: move,
			outward: move,
		}),
	),
	floors: z.array(z.strictObject({ floor: z.string(), stores: ids })),
});
export type LayoutJson = z.infer<typeof layoutJson>;

export function layoutToJson(layout: MallLayout): LayoutJson {
	return {
		name: layout.name,
		areas: [...layout.areas.values()].map((area) => ({ ...area })),
		sensors: [...layout.sensors.values()].map((sensor) => ({
			id: sensor.id,
			kind: sensor.kind,
			name: sensor.name,
			staffOnly: sensor.staffOnly,
			inward: { enters: [...sensor.inward.enters], leaves: [...sensor.inward.leaves] },
			outward: { enters: [...sensor.outward.enters], leaves: [...sensor.outward.leaves] },
		})),
		floors: layout.floors.map((floor) => ({ floor: floor.floor, stores: [...floor.stores] })),
	};
}

/** Rebuilds a layout; an error message if it is malformed or refers to unknown areas. */
export function layoutFromJson(json: unknown): { ok: true; layout: MallLayout } | { ok: false; error: string } {
	const parsed = layoutJson.safeParse(json);
	if (!parsed.success) return { ok: false, error: `layout: ${parsed.error.issues[0]?.message ?? 'malformed'}` };
	const areas = new Map<AreaId, Area>();
	for (const area of parsed.data.areas) {
		areas.set(areaId(area.id), { ...area, id: areaId(area.id), parent: area.parent === null ? null : areaId(area.parent) });
	}
	const sensors = new Map<SensorId, Sensor>();
	const sensorsOf = new Map<AreaId, SensorId[]>([...areas.keys()].map((id) => [id, []]));
	for (const raw of parsed.data.sensors) {
		const toMove = (m: { enters: string[]; leaves: string[] }) => ({ enters: m.enters.map(areaId), leaves: m.leaves.map(areaId) });
		const inward = toMove(raw.inward);
		const outward = toMove(raw.outward);
		const touched = new Set([...inward.enters, ...inward.leaves, ...outward.enters, ...outward.leaves]);
		const ordered = [...areas.keys()].filter((id) => touched.has(id));
		if (ordered.length !== touched.size) return { ok: false, error: `layout: sensor ${raw.id} refers to an unknown area` };
		const sensor: Sensor = { id: sensorId(raw.id), kind: raw.kind, name: raw.name, staffOnly: raw.staffOnly, inward, outward, areas: ordered };
		sensors.set(sensor.id, sensor);
		for (const area of ordered) sensorsOf.get(area)!.push(sensor.id);
	}
	return {
		ok: true,
		layout: {
			name: parsed.data.name,
			areas,
			sensors,
			sensorsOf,
			floors: parsed.data.floors.map((floor) => ({ floor: areaId(floor.floor), stores: floor.stores.map(areaId) })),
		},
	};
}
