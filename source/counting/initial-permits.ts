import type { SensorId } from '../model/ids.js';

/**
 * Splits an area's capacity into the permits each of its admitting sensors starts with.
 * Every replica computes the same split from the layout alone, so no message is needed
 * to agree on it: an even share each, the remainder to the first sensors in layout order.
 */
export function initialPermits(capacity: number, admitting: readonly SensorId[]): ReadonlyMap<SensorId, number> {
	const split = new Map<SensorId, number>();
	if (admitting.length === 0) return split;
	const share = Math.floor(capacity / admitting.length);
	const remainder = capacity % admitting.length;
	admitting.forEach((sensor, index) => split.set(sensor, share + (index < remainder ? 1 : 0)));
	return split;
}
