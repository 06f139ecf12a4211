/**
 * Branded identifiers. A store id and a sensor id are both strings on the wire, but
 * passing one where the other is meant is a bug the compiler should catch.
 */
declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

/** The id of an area: the mall, a floor or a store (unique across all three). */
export type AreaId = Brand<string, 'AreaId'>;
/** The id of a sensor: one counting point (an entrance, an escalator, a store door). */
export type SensorId = Brand<string, 'SensorId'>;

export const areaId = (value: string): AreaId => value as AreaId;
export const sensorId = (value: string): SensorId => value as SensorId;

/** The one area that holds every other. */
export const MALL: AreaId = areaId('mall');
