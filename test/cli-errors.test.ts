import test from 'ava';
import { createSocket } from 'node:dgram';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FootfallProcess } from './helpers/footfall-process.js';

/** Mistakes a person makes at the keyboard: one line on stderr naming what and where, exit code 1. */
const work = mkdtempSync(join(tmpdir(), 'footfall-cli-'));
test.after.always(() => rmSync(work, { recursive: true, force: true }));
const password = join(work, 'password');
writeFileSync(password, 'secret\n');
const malformed = join(work, 'bad.json');
writeFileSync(malformed, '{"name": "x", "capacity": 0, "floors": [], "sensors": [], "accounts": []}');

const fails = test.macro(async (t, args: string[] | (() => Promise<[string[], () => void]>), message: RegExp) => {
	let cleanup = () => {};
	let argv: string[];
	if (typeof args === 'function') [argv, cleanup] = await args();
	else argv = args;
	const child = new FootfallProcess(argv);
	t.teardown(() => {
		child.stop();
		cleanup();
	});
	t.is(await child.exited, 1);
	t.regex(child.stderr, message);
	t.is(child.stderr.trim().split('\n').length, 1, `one line: ${child.stderr}`);
	t.notRegex(child.stderr, /\n\s+at /, 'no stack trace');
});

test('an unknown role', fails, ['conductor'], /^footfall: unknown role "conductor": expected tracker, peer, observer or demo/);
test('a missing fixture file', fails, ['tracker', '--fixture', join(work, 'nope.json'), '--headless'], /nope\.json: cannot read: ENOENT/);
test('a malformed fixture names the field', fails, ['tracker', '--fixture', malformed, '--headless'], /bad\.json: capacity: must be a positive integer/);
test('a missing password file', fails, ['peer', '--tracker', '127.0.0.1:9', '--user', 'u', '--password-file', join(work, 'none'), '--headless'], /none: cannot read password file: ENOENT/);
test('an unreachable tracker, within the bounded wait', fails, ['peer', '--tracker', '127.0.0.1:9', '--user', 'u', '--password-file', password, '--join-timeout', '1', '--headless'], /the tracker at 127\.0\.0\.1:9 did not answer within 1 s/);
test('an unknown flag', fails, ['observer', '--colour', '--headless'], /Unknown option '--colour'.*see footfall observer --help/);
const blocked = join(work, 'blocked');
mkdirSync(blocked);
writeFileSync(join(blocked, 'log'), 'a file where the log directory belongs');
test('a data directory the system will not let it use', fails, ['peer', '--tracker', '127.0.0.1:9', '--user', 'u', '--password-file', password, '--data', blocked, '--headless'], /^footfall peer: E[A-Z]+: .*blocked\/log/);
test('a negative number where a positive one belongs, in one line', fails, ['demo', '--rate', '-1', '--headless'], /^footfall demo: .*--rate/);
test(
	'a port in use',
	fails,
	async () => {
		const socket = createSocket('udp4');
		await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
		const port = socket.address().port;
		return [['tracker', '--fixture', 'fixtures/malls/demo.json', '--listen', `127.0.0.1:${port}`, '--headless'], () => socket.close()];
	},
	/cannot listen on 127\.0\.0\.1:\d+: address already in use/,
);

test('--help documents every flag of each role', async (t) => {
	for (const [role, flags] of Object.entries({
		tracker: ['--fixture', '--listen', '--data', '--headless'],
		peer: ['--tracker', '--user', '--password-file', '--sensor', '--listen', '--data', '--tracker-key', '--join-timeout', '--headless'],
		observer: ['--tracker', '--user', '--password-file', '--areas', '--listen', '--tracker-key', '--join-timeout', '--headless'],
		demo: ['--fixture', '--duration', '--rate', '--seed', '--headless'],
	})) {
		const child = new FootfallProcess([role, '--help']);
		t.is(await child.exited, 0);
		const text = child.lines.map((line) => String(line.text ?? '')).join('\n');
		for (const flag of flags) t.true(text.includes(flag), `${role} --help mentions ${flag}`);
	}
});
