import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataDirectory, DataDirectoryError } from '../source/recovery/data-directory.js';
import { systemRandom } from '../source/runtime/random.js';

function scratch(t: { teardown: (fn: () => void) => void }): string {
	const directory = mkdtempSync(join(tmpdir(), 'footfall-data-'));
	t.teardown(() => rmSync(directory, { recursive: true, force: true }));
	return directory;
}

test('saves made one after another, without waiting, all land: each keeps what the others wrote', async (t) => {
	const path = scratch(t);
	const data = await DataDirectory.open(path, 'tracker', systemRandom);
	await Promise.all([
		data.save({ epochs: [7] }),
		data.save({ members: new Map([['bakery-door', 3]]) }),
		data.save({ granters: { 'bakery shop-front': { gen: 2, granter: 'shop-side', floor: 4, takes: { 'shop-back': 5 } } } }),
	]);
	const reopened = await DataDirectory.open(path, 'tracker', systemRandom);
	t.deepEqual(reopened.kept.epochs, [7]);
	t.deepEqual([...reopened.kept.members], [['bakery-door', 3]]);
	t.deepEqual(reopened.kept.granters, { 'bakery shop-front': { gen: 2, granter: 'shop-side', floor: 4, takes: { 'shop-back': 5 } } });
	t.deepEqual(reopened.identity.agreePublic, data.identity.agreePublic, 'the same keys');
});

test('an unreadable file is refused with its path, not overwritten', async (t) => {
	const path = scratch(t);
	writeFileSync(join(path, 'peer.json'), '{ not json');
	const error = await t.throwsAsync(DataDirectory.open(path, 'peer', systemRandom), { instanceOf: DataDirectoryError });
	t.regex(error!.message, /peer\.json: unreadable .*move it away/);
});
