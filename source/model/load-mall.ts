import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { MALL, areaId, sensorId, type AreaId, type SensorId } from './ids.js';
import type { Account, Area, Mall, Move, Sensor } from './mall.js';
import { mallSchema, passwordsSchema, type MallJson } from './fixture-schema.js';

/** A fixture that cannot be used, with the file and the field at fault. */
export class FixtureError extends Error {
	override readonly name = 'FixtureError';

	constructor(
		readonly file: string,
		/** Where in the file, as `floors[2].stores[4].capacity`; empty for the file as a whole. */
		readonly path: string,
		readonly problem: string,
	) {
		super(path === '' ? `${file}: ${problem}` : `${file}: ${path}: ${problem}`);
	}
}

type Path = readonly PropertyKey[];

/** One thing wrong with a fixture. `at` orders it by position when it differs from `path` (an unknown field). */
interface Problem {
	readonly path: Path;
	readonly problem: string;
	readonly at?: Path;
}

/** `['floors', 2, 'stores', 4, 'capacity']` → `floors[2].stores[4].capacity`. */
export function formatPath(path: Path): string {
	return path.reduce<string>((text, key) => {
		if (typeof key === 'number') return `${text}[${key}]`;
		const name = String(key);
		// A user name such as `a.b` in a passwords file would read as two steps.
		if (!/^[A-Za-z0-9_$-]+$/.test(name)) return `${text}[${JSON.stringify(name)}]`;
		return text === '' ? name : `${text}.${name}`;
	}, '');
}

/**
 * Orders problems by where they sit in the file, so the one reported is the first a
 * reader meets. JSON.parse keeps keys in file order; a missing field sits at the end of
 * its object, where the reader would have looked for it.
 */
function byPosition(json: unknown): (a: Problem, b: Problem) => number {
	const rank = (node: unknown, key: PropertyKey): number => {
		if (Array.isArray(node)) return Number(key);
		if (node === null || typeof node !== 'object') return 0;
		const index = Object.keys(node).indexOf(String(key));
		return index === -1 ? Number.MAX_SAFE_INTEGER : index;
	};
	return (a, b) => {
		const [left, right] = [a.at ?? a.path, b.at ?? b.path];
		let node = json;
		for (let depth = 0; depth < left.length && depth < right.length; depth++) {
			const [l, r] = [left[depth]!, right[depth]!];
			if (l !== r) return rank(node, l) - rank(node, r);
			node = node !== null && typeof node === 'object' ? (node as Record<PropertyKey, unknown>)[l] : undefined;
		}
		return left.length - right.length;
	};
}

function firstProblem(file: string, json: unknown, problems: readonly Problem[]): FixtureError | null {
	const [first] = [...problems].sort(byPosition(json));
	return first ? new FixtureError(file, formatPath(first.path), first.problem) : null;
}

/** zod's issues as problems; the schema wrote every message but those for unknown fields and bad keys. */
function schemaProblems(error: z.ZodError): Problem[] {
	return error.issues.flatMap((issue): Problem[] => {
		switch (issue.code) {
			case 'unrecognized_keys':
				return issue.keys.map((key) => ({ path: issue.path, at: [...issue.path, key], problem: `unknown field ${JSON.stringify(key)}` }));
			case 'invalid_key':
				return [{ path: issue.path, problem: `user ${issue.issues[0]?.message ?? issue.message}` }];
			default:
				return [{ path: issue.path, problem: issue.message }];
		}
	});
}

async function readJson(file: string): Promise<unknown> {
	let text: string;
	try {
		text = await readFile(file, 'utf8');
	} catch (error) {
		// "ENOENT: no such file or directory, open 'x.json'": the file is named already.
		throw new FixtureError(file, '', `cannot read: ${(error as Error).message.replace(/, \w+ '.*'$/s, '')}`);
	}
	// A byte-order mark, as some editors write one, is not a JSON error worth stopping for.
	text = text.replace(/^\uFEFF/, '');
	try {
		return JSON.parse(text) as unknown;
	} catch (error) {
		throw new FixtureError(file, '', `not valid JSON: ${jsonSyntaxReason((error as Error).message, text)}`);
	}
}

/**
 * V8's reason on one line (it may quote the text around the fault, newlines and all),
 * with its character offset as the line and column an editor shows.
 */
function jsonSyntaxReason(message: string, text: string): string {
	const reason = message.replace(/\s+/g, ' ');
	return reason.replace(/at position (\d+)/, (_, offset: string) => {
		const before = text.slice(0, Number(offset)).split('\n');
		return `at line ${before.length} column ${before.at(-1)!.length + 1}`;
	});
}

/** Reads and validates a mall fixture; a problem with it is a FixtureError naming the field. */
export async function loadMall(file: string): Promise<Mall> {
	return parseMall(await readJson(file), file);
}

/** The plain passwords of the demo and tests, `{"user": "password"}`. */
export async function loadPasswords(file: string): Promise<ReadonlyMap<string, string>> {
	const json = await readJson(file);
	const parsed = passwordsSchema.safeParse(json);
	if (!parsed.success) throw firstProblem(file, json, schemaProblems(parsed.error))!;
	return new Map(Object.entries(parsed.data));
}

/**
 * Validates a fixture and resolves every reference; throws the first problem as a
 * FixtureError. Checked in three rounds, each reporting the problem first in the file:
 * the shape of each field; what spans fields (ids, references, capacities, accounts);
 * then what spans the whole mall (store doors, reach from the street), which only means
 * something once every reference resolves — a misspelt store in a door is reported as
 * that, not as a store without a door.
 */
export function parseMall(json: unknown, file: string): Mall {
	const parsed = mallSchema.safeParse(json);
	if (!parsed.success) throw firstProblem(file, json, schemaProblems(parsed.error))!;
	const fixture = parsed.data;

	const problems: Problem[] = [];
	const report = (path: Path, problem: string): void => void problems.push({ path, problem });
	checkIds(fixture, json, report);
	const areas = buildAreas(fixture, report);
	const sensors = buildSensors(fixture, areas, report);
	const accounts = buildAccounts(fixture, report);
	const local = firstProblem(file, json, problems);
	if (local) throw local;

	const sensorsOf = new Map<AreaId, SensorId[]>([...areas.keys()].map((area) => [area, []]));
	for (const sensor of sensors.values()) for (const area of sensor.areas) sensorsOf.get(area)!.push(sensor.id);
	checkDoors(fixture, sensorsOf, report);
	checkReach(fixture, sensors, report);
	const whole = firstProblem(file, json, problems);
	if (whole) throw whole;

	const floors = fixture.floors.map((floor) => ({ floor: areaId(floor.id), stores: floor.stores.map((store) => areaId(store.id)) }));
	return { name: fixture.name, areas, sensors, sensorsOf, floors, accounts };
}

type Report = (path: Path, problem: string) => void;

/** Floors, stores and sensors share one namespace: a datagram names an area or a sensor by id alone. */
function checkIds(fixture: MallJson, json: unknown, report: Report): void {
	const uses: Problem[] = [
		...fixture.floors.flatMap((floor, f) => [
			{ path: ['floors', f, 'id'], problem: floor.id },
			...floor.stores.map((store, s) => ({ path: ['floors', f, 'stores', s, 'id'], problem: store.id })),
		]),
		...fixture.sensors.map((sensor, index) => ({ path: ['sensors', index, 'id'], problem: sensor.id })),
	];
	// "First used" means first in the file, whatever order its sections come in.
	uses.sort(byPosition(json));
	const firstUse = new Map<string, Path>();
	for (const { path, problem: id } of uses) {
		const earlier = firstUse.get(id);
		if (id === MALL) report(path, `duplicate id "${id}", reserved for the mall itself`);
		else if (earlier) report(path, `duplicate id "${id}", first used at ${formatPath(earlier)}`);
		else firstUse.set(id, path);
	}
}

/** The mall, then its floors, then their stores, each in fixture order. */
function buildAreas(fixture: MallJson, report: Report): Map<AreaId, Area> {
	const areas = new Map<AreaId, Area>([[MALL, { id: MALL, kind: 'mall', name: fixture.name, capacity: fixture.capacity, parent: null }]]);
	fixture.floors.forEach((floor, f) => {
		if (floor.capacity > fixture.capacity) report(['floors', f, 'capacity'], `must not exceed the mall's capacity (${fixture.capacity})`);
		if (!areas.has(areaId(floor.id))) areas.set(areaId(floor.id), { id: areaId(floor.id), kind: 'floor', name: floor.name, capacity: floor.capacity, parent: MALL });
	});
	fixture.floors.forEach((floor, f) =>
		floor.stores.forEach((store, s) => {
			if (store.capacity > floor.capacity) report(['floors', f, 'stores', s, 'capacity'], `must not exceed its floor's capacity (${floor.capacity})`);
			if (!areas.has(areaId(store.id))) areas.set(areaId(store.id), { id: areaId(store.id), kind: 'store', name: store.name, capacity: store.capacity, parent: areaId(floor.id) });
		}),
	);
	return areas;
}

/** Each sensor with the moves it counts; a sensor whose references do not resolve is reported and left out. */
function buildSensors(fixture: MallJson, areas: ReadonlyMap<AreaId, Area>, report: Report): Map<SensorId, Sensor> {
	const sensors = new Map<SensorId, Sensor>();
	fixture.sensors.forEach((raw, index) => {
		const resolve = (field: string, id: string, kind: 'floor' | 'store'): AreaId | null => {
			if (areas.get(areaId(id))?.kind === kind) return areaId(id);
			report(['sensors', index, field], `unknown ${kind} "${id}"`);
			return null;
		};
		let inward: Move | null = null;
		switch (raw.kind) {
			case 'entrance':
			case 'staff-entrance': {
				// From the street a person is newly in the mall and on the entrance's floor.
				const floor = resolve('floor', raw.floor, 'floor');
				if (floor) inward = { enters: [MALL, floor], leaves: [] };
				break;
			}
			case 'escalator': {
				const from = resolve('from', raw.from, 'floor');
				const to = resolve('to', raw.to, 'floor');
				if (from && from === to) report(['sensors', index, 'to'], `must be another floor than from ("${raw.from}")`);
				else if (from && to) inward = { enters: [to], leaves: [from] };
				break;
			}
			case 'store-door': {
				// The shopper is on the floor already: a store door changes the store's count only.
				const store = resolve('store', raw.store, 'store');
				if (store) inward = { enters: [store], leaves: [] };
				break;
			}
		}
		if (!inward || sensors.has(sensorId(raw.id))) return;
		const touched = new Set([...inward.enters, ...inward.leaves]);
		sensors.set(sensorId(raw.id), {
			id: sensorId(raw.id),
			kind: raw.kind,
			name: raw.name ?? raw.id,
			inward,
			outward: { enters: inward.leaves, leaves: inward.enters },
			areas: [...areas.keys()].filter((area) => touched.has(area)),
			staffOnly: raw.kind === 'staff-entrance',
		});
	});
	return sensors;
}

/** Accounts by user. A sensor may have no account (it cannot join) or several (spare credentials). */
function buildAccounts(fixture: MallJson, report: Report): Map<string, Account> {
	// Every declared sensor, even one with a bad reference: that is reported at the sensor.
	const declared = new Set(fixture.sensors.map((sensor) => sensor.id));
	const accounts = new Map<string, Account>();
	const firstUse = new Map<string, number>();
	fixture.accounts.forEach((raw, index) => {
		const path = ['accounts', index];
		const earlier = firstUse.get(raw.user);
		if (earlier !== undefined) return report([...path, 'user'], `duplicate user "${raw.user}", first used at accounts[${earlier}].user`);
		firstUse.set(raw.user, index);
		if (raw.role === 'sensor' && raw.sensor === undefined) return report([...path, 'sensor'], 'is required for a sensor account');
		if (raw.role === 'observer' && raw.sensor !== undefined) return report([...path, 'sensor'], 'must not be set for an observer account');
		if (raw.sensor !== undefined && !declared.has(raw.sensor)) return report([...path, 'sensor'], `unknown sensor "${raw.sensor}"`);
		const { salt, hash, N, r, p } = raw.password;
		accounts.set(raw.user, {
			user: raw.user,
			role: raw.role,
			sensor: raw.sensor === undefined ? null : sensorId(raw.sensor),
			password: { algorithm: 'scrypt', salt: Buffer.from(salt, 'base64'), hash: Buffer.from(hash, 'base64'), N, r, p },
		});
	});
	return accounts;
}

/** A store nobody can be counted into could never be entered. */
function checkDoors(fixture: MallJson, sensorsOf: ReadonlyMap<AreaId, readonly SensorId[]>, report: Report): void {
	fixture.floors.forEach((floor, f) =>
		floor.stores.forEach((store, s) => {
			if (sensorsOf.get(areaId(store.id))?.length === 0) report(['floors', f, 'stores', s], `store "${store.id}" has no store-door sensor`);
		}),
	);
}

/**
 * Every floor must be reachable from the street: an entrance on it, or an escalator
 * linking it to a reachable floor. An escalator sensor counts both ways (`exit` rides it
 * back), so either end reaches the other.
 */
function checkReach(fixture: MallJson, sensors: ReadonlyMap<SensorId, Sensor>, report: Report): void {
	const reachable = new Set<AreaId>();
	const links: [AreaId, AreaId][] = [];
	for (const sensor of sensors.values()) {
		if (sensor.kind === 'entrance' || sensor.kind === 'staff-entrance') reachable.add(sensor.inward.enters[1]!);
		if (sensor.kind === 'escalator') links.push([sensor.inward.leaves[0]!, sensor.inward.enters[0]!]);
	}
	for (let grew = true; grew; ) {
		grew = false;
		for (const [a, b] of links) {
			if (reachable.has(a) !== reachable.has(b)) {
				reachable.add(a).add(b);
				grew = true;
			}
		}
	}
	fixture.floors.forEach((floor, f) => {
		if (!reachable.has(areaId(floor.id))) report(['floors', f], `floor "${floor.id}" cannot be reached from the street: no entrance on it and no escalator to it from a reachable floor`);
	});
}
