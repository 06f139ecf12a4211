import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { BINARY, ROOT } from './helpers/footfall-process.js';

/**
 * `footfall demo` in a real terminal (tmux, 140x45), driven as a person would: read the
 * screen, press keys, read it again.
 */
const hasTmux = spawnSync('tmux', ['-V']).status === 0;
const socket = `footfall-test-${process.pid}`;
const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
const screen = () => tmux('capture-pane', '-p', '-t', 'demo');

async function until(what: string, test: (text: string) => boolean, ms: number): Promise<string> {
	const deadline = Date.now() + ms;
	for (;;) {
		const text = screen();
		if (test(text)) return text;
		if (Date.now() > deadline) throw new Error(`${what} not on screen within ${ms} ms:\n${text}`);
		await new Promise((resolve) => setTimeout(resolve, 200));
	}
}

const run = hasTmux ? test : test.skip;
if (!hasTmux) console.log('console-e2e: tmux is not installed, so the terminal test is skipped (apt-get install tmux)');

run('the demo console in a terminal: panes, live numbers, help, kill, quit', async (t) => {
	t.timeout(90_000);
	t.teardown(() => {
		try {
			tmux('kill-server');
		} catch {
			// already gone
		}
	});
	// CI=true as on a CI runner: ink alone would then draw nothing but the last frame.
	tmux('new-session', '-d', '-s', 'demo', '-x', '140', '-y', '45', `cd ${ROOT} && CI=true ${process.execPath} ${BINARY} demo; echo "footfall exited $?"; sleep 60`);
	const first = await until('the panes', (text) => ['Occupancy', 'Peers', 'Saved by hierarchy filtering', 'Recovery', 'Log — this process'].every((title) => text.includes(title)), 30_000);
	t.pass('all pane titles shown');
	const sent = (text: string) => /sent ([\d,]+) ·/.exec(text)?.[1];
	const later = await until('numbers changing', (text) => sent(text) !== undefined && sent(text) !== sent(first), 10_000);
	t.not(sent(later), sent(first));

	tmux('send-keys', '-t', 'demo', '?');
	const help = await until('the help', (text) => text.includes('Keys') && text.includes('kill the selected peer'), 5000);
	t.true(help.includes('packet loss 0 / 10 / 30 %'));
	tmux('send-keys', '-t', 'demo', 'Escape');
	await until('the panes again', (text) => text.includes('Occupancy') && !text.includes('kill the selected peer'), 5000);

	tmux('send-keys', '-t', 'demo', 'Tab'); // focus Peers; the first row, arcade-door, is selected
	await until('peers focused', (text) => text.includes('↑↓ select'), 5000);
	tmux('send-keys', '-t', 'demo', 'k');
	await until('the kill noticed', (text) => text.includes('killed arcade-door'), 5000);
	const dead = await until('arcade-door dead in Peers', (text) => /arcade-door +arcade +.*dead/.test(text), 15_000);
	t.regex(dead, /arcade-door +arcade +.*dead/);

	tmux('send-keys', '-t', 'demo', 'q');
	const after = await until('the process exited', (text) => text.includes('footfall exited'), 20_000);
	t.regex(after, /footfall exited 0/);
	t.false(after.includes('Saved by hierarchy filtering'), 'the terminal is given back: no pane left on screen');
});
