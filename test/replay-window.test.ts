import test from 'ava';
import { ReplayWindow } from '../source/network/replay-window.js';

const sequence = test.macro((t, size: number, seqs: number[], expected: boolean[]) => {
	const window = new ReplayWindow(size);
	t.deepEqual(seqs.map((seq) => window.accept(seq)), expected);
});

test('accepts numbers in order', sequence, 64, [0, 1, 2, 3], [true, true, true, true]);
test('refuses a repeated number', sequence, 64, [0, 1, 1, 2, 0], [true, true, false, true, false]);
test('accepts reordering inside the window', sequence, 64, [5, 3, 4, 1, 3], [true, true, true, true, false]);
test('refuses a number older than the window', sequence, 64, [100, 36, 37], [true, false, true]);
test('forgets old marks when the window slides past them', sequence, 64, [1, 65, 129, 66, 65], [true, true, true, true, false]);
test('a jump past the whole window clears it', sequence, 64, [1, 2, 1000, 999, 1000], [true, true, true, true, false]);
