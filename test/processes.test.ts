import test from 'ava';
import type { FootfallProcess } from './helpers/footfall-process.js';
import { ProcessCluster } from './helpers/process-cluster.js';

/**
 * The network as separate `footfall` processes on loopback, driven through stdin the way
 * an operator's script would: a tracker, five sensor peers and an observer.
 */
const cluster = new ProcessCluster('processes');
const passwordFile = (user: string): string => cluster.passwordFile(user);
const start = (args: string[]): FootfallProcess => cluster.start(args);
const peers = new Map<string, FootfallProcess>();
let tracker: FootfallProcess;
let observer: FootfallProcess;
let trackerAddress = '';

const SENSORS = ['north-entrance', 'south-entrance', 'bakery-door', 'fashion-door', 'fashion-side-door'];

test.before(async () => {
	tracker = cluster.tracker();
	trackerAddress = String((await tracker.ready()).listen);
	for (const sensor of SENSORS) {
		peers.set(sensor, start(['peer', '--tracker', trackerAddress, '--user', sensor, '--password-file', passwordFile(sensor)]));
	}
	observer = start(['observer', '--tracker', trackerAddress, '--user', 'ops', '--password-file', passwordFile('ops')]);
	await Promise.all([...peers.values(), observer].map((child) => child.ready()));
	// Every peer knows all six members (and so can route to them) once the tracker has announced them.
	await tracker.waitFor(() => tracker.lines.filter((line) => line.type === 'member-joined').length === SENSORS.length + 1);
});

test.after.always(() => cluster.stop());

const peer = (sensor: string): FootfallProcess => peers.get(sensor)!;
type Figures = Record<string, { occupancy: number; staff: number; capacity: number; refused: number }>;
const observed = (expected: Record<string, number>) => (line: Record<string, unknown>) =>
	line.type === 'occupancy' && Object.entries(expected).every(([area, count]) => (line.areas as Figures)[area]?.occupancy === count);

test.serial('every role prints a ready line with its address, and a peer its sensor and incarnation', (t) => {
	t.regex(trackerAddress, /^127\.0\.0\.1:\d+$/);
	const ready = peer('bakery-door').lines[0]!;
	t.like(ready, { type: 'ready', role: 'peer', sensor: 'bakery-door', incarnation: 1 });
	t.regex(String(ready.listen), /^127\.0\.0\.1:\d+$/);
	t.like(observer.lines[0], { type: 'ready', role: 'observer' });
});

test.serial('the observer counts exactly what the sensors admitted', async (t) => {
	const answers = [
		...(await peer('north-entrance').commands(['enter', 'enter', 'enter'], 'entry')),
		...(await peer('south-entrance').commands(['enter', 'enter', 'enter staff'], 'entry')),
		...(await peer('bakery-door').commands(['enter', 'enter'], 'entry')),
		...(await peer('bakery-door').commands(['exit'], 'exit')),
	];
	t.true(answers.every((answer) => answer.admitted === true));
	t.deepEqual(answers[0]!.delta, { mall: 1, ground: 1 });
	await observer.waitFor(observed({ mall: 5, ground: 5, bakery: 1 }), 10_000, 'occupancy mall 5, ground 5, bakery 1');
	const last = observer.lines.filter((line) => line.type === 'occupancy').at(-1)!;
	t.is((last.areas as Figures).mall!.staff, 1, 'staff counted apart');
	const status = await peer('north-entrance').command('status', 'status');
	t.like(status, { sensor: 'north-entrance', incarnation: 1, admitted: 3, refused: 0 });
});

test.serial('the observer shows what hierarchy filtering saved across the sensors it hears from', async (t) => {
	const line = await observer.waitFor((candidate) => candidate.type === 'occupancy' && (candidate.datagrams as { sensors: number }).sensors === SENSORS.length, 10_000, 'traffic from every sensor');
	const datagrams = line.datagrams as { sent: number; flood: number; saved: number };
	t.true(datagrams.sent > 0);
	t.is(datagrams.saved, datagrams.flood - datagrams.sent);
	t.true(datagrams.saved > 0, 'a store door does not send to the entrances');
});

test.serial('an entry past capacity is refused, and the gate says why', async (t) => {
	const bakery = peer('bakery-door');
	const status = await bakery.command('status', 'status');
	const { capacity, occupancy } = (status.areas as Figures).bakery!;
	const answers = await bakery.commands(Array.from({ length: capacity - occupancy + 1 }, () => 'enter'), 'entry');
	t.true(answers.slice(0, -1).every((answer) => answer.admitted === true));
	t.like(answers.at(-1), { admitted: false, reason: 'full', area: 'bakery', delta: {} });
	await observer.waitFor((line) => line.type === 'occupancy' && (line.areas as Figures).bakery?.occupancy === capacity && (line.areas as Figures).bakery?.refused === 1);
});

test.serial('two doors of one store admitting at once never overshoot its capacity', async (t) => {
	const status = await peer('fashion-door').command('status', 'status');
	const { capacity, occupancy } = (status.areas as Figures).fashion!;
	const tries = capacity; // each door tries to let in a full store's worth
	const [front, side] = await Promise.all([
		peer('fashion-door').commands(Array.from({ length: tries }, () => 'enter'), 'entry', 20_000),
		peer('fashion-side-door').commands(Array.from({ length: tries }, () => 'enter'), 'entry', 20_000),
	]);
	const admitted = [...front, ...side].filter((answer) => answer.admitted === true).length;
	t.log(`fashion: ${admitted} admitted of ${2 * tries} tries, room was ${capacity - occupancy}`);
	t.true(admitted <= capacity - occupancy, 'never over capacity');
	t.is(admitted, capacity - occupancy, 'and every permit was used: loans moved them to where they were needed');
	await observer.waitFor(observed({ fashion: capacity }), 10_000, `fashion at ${capacity}`);
});

test.serial('quit leaves cleanly: the tracker announces the member left and the process exits 0', async (t) => {
	const south = peer('south-entrance');
	south.child.stdin.write('quit\n');
	t.is(await south.exited, 0);
	await tracker.waitFor((line) => line.type === 'member-left' && line.id === 'south-entrance', 5000, 'member-left');
});

/** A refused login: one line for the peer, in words that do not say which part was wrong; the tracker's log says. */
const refusedJoin = test.macro(async (t, args: string[], message: RegExp, trackerReason: RegExp) => {
	const child = start(['peer', '--tracker', trackerAddress, '--join-timeout', '5', ...args]);
	t.is(await child.exited, 1);
	t.regex(child.stderr, message);
	t.is(child.stderr.trim().split('\n').length, 1, 'one line, no stack trace');
	await tracker.waitFor((line) => line.type === 'login-refused' && trackerReason.test(String(line.reason)), 5000, `login-refused ${trackerReason}`);
});

const NOT_ACCEPTED = /^footfall peer: the tracker refused the login: the user name or password was not accepted$/m;
test.serial('a wrong password is refused: one line on stderr, exit 1', refusedJoin, ['--user', 'cafe-door', '--password-file', passwordFile('nobody')], NOT_ACCEPTED, /wrong password for user "cafe-door"/);
test.serial('an account claiming another sensor is refused', refusedJoin, ['--user', 'cafe-door', '--sensor', 'bakery-door', '--password-file', passwordFile('cafe-door')], /speaks for sensor "cafe-door", not "bakery-door"/, /speaks for sensor "cafe-door"/);
test.serial('an unknown user is refused in the same words', refusedJoin, ['--user', 'mallory', '--password-file', passwordFile('mallory')], NOT_ACCEPTED, /unknown user "mallory"/);

test.serial('revoke USER on the tracker stdin: a new epoch without the account, and its peer stops with one line, exit 1', async (t) => {
	const salon = start(['peer', '--tracker', trackerAddress, '--user', 'salon-door', '--password-file', passwordFile('salon-door')]);
	await salon.ready();
	tracker.child.stdin.write('revoke salon-door\n');
	t.like(await tracker.waitFor((line) => line.type === 'revoke', 5000, 'the answer'), { user: 'salon-door', ok: true });
	t.like(await tracker.waitFor((line) => line.type === 'revoked', 5000, 'the new epoch'), { user: 'salon-door' });
	await peer('bakery-door').waitFor((line) => line.type === 'rekeyed' && line.without === 'salon-door', 5000, 'the others move without it');
	t.is(await salon.exited, 1);
	t.true(salon.lines.some((line) => line.type === 'revoked'));
	t.regex(salon.stderr, /^footfall peer: the operator revoked the account "salon-door"; this peer stopped\n$/);
	tracker.child.stdin.write('revoke nobody\n');
	t.like(await tracker.waitFor((line) => line.type === 'revoke' && line.user === 'nobody', 5000, 'the answer'), { ok: false });
	t.like(await peer('bakery-door').command('enter', 'entry'), { type: 'entry' }, 'the others go on counting on the new epoch');
});
