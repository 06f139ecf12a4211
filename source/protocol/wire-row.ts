import type { AreaId, SensorId } from '../model/ids.js';
import type { Row } from '../counting/row.js';
import type { WireRow } from './messages.js';

export function rowToWire(area: AreaId, row: Row): WireRow {
	return { a: area, e: row.entries, x: row.exits, se: row.staffEntries, sx: row.staffExits, r: row.refused, g: Object.fromEntries(row.given) };
}

export function rowFromWire(wire: WireRow): Row {
	return {
		entries: wire.e,
		exits: wire.x,
		staffEntries: wire.se,
		staffExits: wire.sx,
		refused: wire.r,
		given: new Map(Object.entries(wire.g) as [SensorId, number][]),
	};
}
