/**
 * How fast the demo console answers a key while traffic runs at `rate` moves per second:
 * `footfall demo` in tmux (140x45), `?` pressed, the time until the help is on screen.
 * Only loopback; the demo and the tmux server are stopped after.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BINARY = fileURLToPath(new URL('../source/cli/main.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ConsoleLatency {
	readonly rate: number;
	readonly keyMs: number[];
	/** Moves the demo actually decided per second while the console drew it. */
	readonly movesPerSecond: number;
}

export function tmuxAvailable(): boolean {
	return spawnSync('tmux', ['-V']).status === 0;
}

export async function measureConsoleLatency(rate: number, presses = 8): Promise<ConsoleLatency> {
	const socket = `footfall-bench-${process.pid}`;
	const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
	const screen = () => tmux('capture-pane', '-p', '-t', 'demo');
	const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
	const until = async (test: (text: string) => boolean, ms: number) => {
		const deadline = performance.now() + ms;
		while (!test(screen())) {
			if (performance.now() > deadline) throw new Error('the console did not show what was expected in time');
			await sleep(2);
		}
	};
	tmux('new-session', '-d', '-s', 'demo', '-x', '140', '-y', '45', `cd ${ROOT} && ${process.execPath} ${BINARY} demo --rate ${rate}; sleep 30`);
	try {
		await until((text) => text.includes('Occupancy'), 30_000);
		await sleep(3000); // let traffic reach its rate
		const moves = (text: string) => {
			const match = / (\d+) in · (\d+) refused/.exec(text);
			return match ? Number(match[1]) + Number(match[2]) : 0;
		};
		const before = moves(screen());
		const started = performance.now();
		const keyMs: number[] = [];
		for (let press = 0; press < presses; press++) {
			const pressed = performance.now();
			tmux('send-keys', '-t', 'demo', '?');
			await until((text) => text.includes('kill the selected peer'), 5000);
			keyMs.push(performance.now() - pressed);
			tmux('send-keys', '-t', 'demo', '?');
			await until((text) => text.includes('Occupancy'), 5000);
			await sleep(300);
		}
		const after = moves(screen());
		return { rate, keyMs, movesPerSecond: ((after - before) * 1000) / (performance.now() - started) };
	} finally {
		tmux('kill-server');
	}
}
