/**
 * Runs `action` at most once per `intervalMs` however often it is requested, and always
 * after the last request: bursts become one update, and the last state is never lost.
 */
export function coalesce(action: () => void, intervalMs: number): { request: () => void; cancel: () => void } {
	let timer: NodeJS.Timeout | null = null;
	let last = -Infinity;
	return {
		request() {
			if (timer) return;
			const wait = Math.max(0, last + intervalMs - performance.now());
			timer = setTimeout(() => {
				timer = null;
				last = performance.now();
				action();
			}, wait);
		},
		cancel() {
			if (timer) clearTimeout(timer);
			timer = null;
		},
	};
}
