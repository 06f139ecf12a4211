import type { AreaId, SensorId } from '../model/ids.js';
import type { Lease, Row } from '../counting/row.js';
import type { UnsignedWireRow, WireRow } from './messages.js';

/**
 * A row as it travels, with its owner's signature. The lease and take fields travel only
 * when set: most rows have none, and datagrams stay small.
 */
export function rowToWire(area: AreaId, row: Row): UnsignedWireRow;
export function rowToWire(area: AreaId, row: Row, signature: string): WireRow;
export function rowToWire(area: AreaId, row: Row, signature?: string): UnsignedWireRow | WireRow {
	const wire: UnsignedWireRow & { s?: string } = { a: area, e: row.entries, x: row.exits, se: row.staffEntries, sx: row.staffExits, r: row.refused, g: Object.fromEntries(row.given) };
	if (row.taken.size > 0) wire.t = Object.fromEntries(row.taken);
	if (row.leases.size > 0) wire.l = Object.fromEntries([...row.leases].map(([holder, lease]) => [holder, [lease.gen, lease.cap]]));
	if (row.assignment !== null) {
		const { gen, granter, formerTaken, granterTaken, floor, sig } = row.assignment;
		wire.as = [gen, granter, formerTaken, granterTaken, floor, sig];
	}
	if (signature !== undefined) wire.s = signature;
	return wire;
}

export function rowFromWire(wire: UnsignedWireRow): Row {
	return {
		entries: wire.e,
		exits: wire.x,
		staffEntries: wire.se,
		staffExits: wire.sx,
		refused: wire.r,
		given: new Map(Object.entries(wire.g) as [SensorId, number][]),
		taken: new Map(Object.entries(wire.t ?? {}) as [SensorId, number][]),
		leases: new Map(Object.entries(wire.l ?? {}).map(([holder, [gen, cap]]) => [holder as SensorId, { gen, cap } satisfies Lease])),
		assignment: wire.as ? { gen: wire.as[0], granter: wire.as[1] as SensorId, formerTaken: wire.as[2], granterTaken: wire.as[3], floor: wire.as[4], sig: wire.as[5] } : null,
	};
}
