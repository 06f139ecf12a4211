/**
 * What logins cost under attack, against a real tracker process (the demo fixture, scrypt
 * N=16384) over UDP on loopback: the time to a refusal for an unknown user and for a
 * known one with a wrong password, and 300 wrong passwords sent at once for one account —
 * how many reach a password check, how long another account's login takes meanwhile, and
 * how long the real device takes to log in again afterwards.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Address } from '../source/network/address.js';
import { DEFAULT_TIMINGS } from '../source/network/config.js';
import { UdpTransport } from '../source/network/udp-transport.js';
import { parseFrame } from '../source/protocol/frame.js';
import { LoginSession } from '../source/roles/member/login-session.js';
import { systemRandom } from '../source/runtime/random.js';
import { generateIdentity, type Identity } from '../source/security/keys.js';

const BINARY = fileURLToPath(new URL('../source/cli/main.js', import.meta.url));
const FIXTURE = fileURLToPath(new URL('../../fixtures/malls/demo.json', import.meta.url));
const PASSWORDS = JSON.parse(readFileSync(fileURLToPath(new URL('../../fixtures/malls/demo.passwords.json', import.meta.url)), 'utf8')) as Record<string, string>;

export interface LoginFigures {
	readonly unknownUserMs: number;
	readonly knownUserMs: number;
	readonly parallelGuesses: number;
	readonly guessesChecked: number;
	readonly otherLoginMs: number;
	readonly deviceBackMs: number;
}

let nextHost = 2;

/** One login through the member's own handshake code; resolves with whether it got in and how long it took. */
async function login(tracker: Address, user: string, password: string, identity: Identity = generateIdentity(systemRandom), host = `127.0.1.${nextHost++ % 250}`): Promise<{ ok: boolean; ms: number }> {
	const transport = await UdpTransport.bind({ host, port: 0 });
	const started = performance.now();
	try {
		return await new Promise((resolve) => {
			const session = new LoginSession(
				{
					tracker,
					identity,
					request: { user, password, role: 'sensor', sensor: null, signKey: identity.signPublic.toString('base64'), agreeKey: identity.agreePublic.toString('base64'), areas: null, lastIncarnation: 0, continuing: false, run: systemRandom.bytes(16).toString('base64') },
					trustedTrackerKey: null,
					retryMs: DEFAULT_TIMINGS.handshakeRetryMs,
					timeoutMs: 60_000,
					random: systemRandom,
				},
				transport,
				performance.now(),
			);
			let timer: NodeJS.Timeout | undefined;
			const step = (): void => {
				clearTimeout(timer);
				if (session.result !== null) return resolve({ ok: session.result.kind === 'welcome', ms: performance.now() - started });
				timer = setTimeout(() => (session.tick(performance.now()), step()), Math.max(0, session.wakeAt() - performance.now()));
			};
			transport.onReceive((bytes) => {
				const frame = parseFrame(bytes);
				if (frame.ok) session.handle(frame.value, performance.now());
				step();
			});
			step();
		});
	} finally {
		await transport.close();
	}
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

export async function measureLogins(): Promise<LoginFigures> {
	const child = spawn(process.execPath, [BINARY, 'tracker', '--fixture', FIXTURE, '--listen', '127.0.0.1:0', '--headless'], { stdio: ['pipe', 'pipe', 'inherit'] });
	const lines: Record<string, unknown>[] = [];
	const ready = new Promise<Record<string, unknown>>((resolve) => {
		createInterface({ input: child.stdout }).on('line', (text) => {
			const line = JSON.parse(text) as Record<string, unknown>;
			lines.push(line);
			if (line['type'] === 'ready') resolve(line);
		});
	});
	try {
		const [host, port] = String((await ready)['listen']).split(':');
		const tracker = { host: host!, port: Number(port) };
		// One at a time, each from its own address so that no throttle is involved.
		const unknown: number[] = [];
		const known: number[] = [];
		for (let n = 0; n < 10; n++) {
			unknown.push((await login(tracker, `nobody-${n}`, 'guess')).ms);
			known.push((await login(tracker, ['cafe-door', 'toys-door', 'salon-door', 'arcade-door', 'bookshop-door'][n % 5]!, 'guess')).ms);
		}
		// The real bakery door logs in once: its device key is known from then on.
		const device = generateIdentity(systemRandom);
		const first = await login(tracker, 'bakery-door', PASSWORDS['bakery-door']!, device, '127.0.2.1');
		if (!first.ok) throw new Error('the bakery door could not log in');
		const before = lines.length;
		const guesses = Array.from({ length: 300 }, (_, n) => login(tracker, 'bakery-door', `guess-${n}`, generateIdentity(systemRandom), '127.0.9.9'));
		const other = await login(tracker, 'pharmacy-door', PASSWORDS['pharmacy-door']!, generateIdentity(systemRandom), '127.0.2.2');
		await Promise.all(guesses);
		const back = await login(tracker, 'bakery-door', 'not needed: the device key is', device, '127.0.2.1');
		const refusals = lines.slice(before).filter((line) => line['type'] === 'login-refused' && line['user'] === 'bakery-door');
		return {
			unknownUserMs: median(unknown),
			knownUserMs: median(known),
			parallelGuesses: 300,
			guessesChecked: refusals.filter((line) => String(line['reason']).startsWith('wrong password')).length,
			otherLoginMs: other.ok ? other.ms : Number.NaN,
			deviceBackMs: back.ok ? back.ms : Number.NaN,
		};
	} finally {
		child.kill();
	}
}
