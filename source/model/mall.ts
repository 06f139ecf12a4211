import type { AreaId, SensorId } from './ids.js';

export type AreaKind = 'mall' | 'floor' | 'store';

export interface Area {
	readonly id: AreaId;
	readonly kind: AreaKind;
	readonly name: string;
	readonly capacity: number;
	/** The enclosing area: a store's floor, a floor's mall; null for the mall. */
	readonly parent: AreaId | null;
}

export type SensorKind = 'entrance' | 'staff-entrance' | 'escalator' | 'store-door';

/**
 * One way through a sensor. `enters` are the areas a person moving this way newly
 * occupies (each needs room), `leaves` the areas they no longer occupy. A store door's
 * inward move enters only the store: the shopper is on the floor already.
 */
export interface Move {
	readonly enters: readonly AreaId[];
	readonly leaves: readonly AreaId[];
}

export interface Sensor {
	readonly id: SensorId;
	readonly kind: SensorKind;
	readonly name: string;
	/** `enter` at this sensor: into the mall, into the store, onto the escalator's destination floor. */
	readonly inward: Move;
	/** `exit` at this sensor: the opposite way. */
	readonly outward: Move;
	/** Every area this sensor changes the count of, in either direction: its replica groups. */
	readonly areas: readonly AreaId[];
	/** Staff entrances admit staff only; everything else admits visitors and staff. */
	readonly staffOnly: boolean;
}

export type Role = 'sensor' | 'observer';

export interface PasswordHash {
	readonly algorithm: 'scrypt';
	readonly salt: Buffer;
	readonly hash: Buffer;
	readonly N: number;
	readonly r: number;
	readonly p: number;
}

export interface Account {
	readonly user: string;
	readonly role: Role;
	/** The sensor a `sensor` account speaks for; null for observers. */
	readonly sensor: SensorId | null;
	readonly password: PasswordHash;
}

/**
 * The shape of a mall: what every member needs to count, and what the tracker sends to
 * each member when it joins. No accounts: those stay with the tracker.
 */
export interface MallLayout {
	readonly name: string;
	readonly areas: ReadonlyMap<AreaId, Area>;
	readonly sensors: ReadonlyMap<SensorId, Sensor>;
	/** For each area, the sensors that change its count, in fixture order. */
	readonly sensorsOf: ReadonlyMap<AreaId, readonly SensorId[]>;
	/** Floors in fixture order, each with its stores in fixture order. */
	readonly floors: readonly { readonly floor: AreaId; readonly stores: readonly AreaId[] }[];
}

/** A validated mall fixture: its layout and its accounts, every reference resolved. */
export interface Mall extends MallLayout {
	readonly accounts: ReadonlyMap<string, Account>;
}
