import type { AreaId, SensorId } from '../model/ids.js';
import type { MallLayout } from '../model/mall.js';

/**
 * The sensors that can let a visitor into `area`: those whose inward or outward move
 * enters it, staff entrances aside (staff need no permits). Only they hold permits.
 */
export function admittingSensors(layout: MallLayout, area: AreaId): SensorId[] {
	return (layout.sensorsOf.get(area) ?? []).filter((id) => {
		const sensor = layout.sensors.get(id);
		return sensor !== undefined && !sensor.staffOnly &&
			(sensor.inward.enters.includes(area) || sensor.outward.enters.includes(area));
	});
}
