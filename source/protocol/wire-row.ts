import type { AreaId, SensorId } from '../model/ids.js';
import type { Lease, Row } from '../counting/row.js';
import type { WireRow } from './messages.js';

/** The lease fields travel only when set: most rows have none, and datagrams stay small. */
export function rowToWire(area: AreaId, row: Row): WireRow {
	const wire: WireRow = { a: area, e: row.entries, x: row.exits, se: row.staffEntries, sx: row.staffExits, r: row.refused, g: Object.fromEntries(row.given) };
	if (row.taken.size > 0) wire.t = Object.fromEntries(row.taken);
	if (row.leases.size > 0) wire.l = Object.fromEntries([...row.leases].map(([holder, lease]) => [holder, [lease.gen, lease.cap, lease.basis]]));
	if (row.assignment !== null) wire.as = [row.assignment.gen, row.assignment.granter, row.assignment.formerTaken, row.assignment.floor];
	return wire;
}

export function rowFromWire(wire: WireRow): Row {
	return {
		entries: wire.e,
		exits: wire.x,
		staffEntries: wire.se,
		staffExits: wire.sx,
		refused: wire.r,
		given: new Map(Object.entries(wire.g) as [SensorId, number][]),
		taken: new Map(Object.entries(wire.t ?? {}) as [SensorId, number][]),
		leases: new Map(Object.entries(wire.l ?? {}).map(([holder, [gen, cap, basis]]) => [holder as SensorId, { gen, cap, basis } satisfies Lease])),
		assignment: wire.as ? { gen: wire.as[0], granter: wire.as[1] as SensorId, formerTaken: wire.as[2], floor: wire.as[3] } : null,
	};
}
