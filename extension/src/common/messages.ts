// What the extension tells people. Pure: unit-tested without VS Code.

export interface ServerStatus {
    uri?: string;
    summary?: string | null;
    passed?: number | null;
    total?: number | null;
    refining?: boolean;
}

export function missingInterpreterMessage(python: string): string {
    return (
        `ORPS: the interpreter ${python} does not exist. ` +
        'Set orps.interpreter to the path of a Python 3.10+ interpreter, or choose one with the Python extension.'
    );
}

/** The last line of a failed check's stderr: the exception, or the entry script's own message. */
function reason(detail: string): string {
    const lines = detail.trim().split('\n');
    return (lines.pop() ?? '').replace(/^orps: /, '').trim();
}

/** The button that switches `orps.importStrategy` back to the server bundled with the extension. */
export const USE_BUNDLED_ACTION = 'Use the Bundled Server';

/** `fromEnvironment`, and the interpreter has no orps: say so, and that the bundled one needs nothing. */
export function notInEnvironmentMessage(python: string, detail: string): string {
    const why = reason(detail);
    return (
        `ORPS: orps is not installed for ${python}` +
        (why ? ` (${why})` : '') +
        ', and orps.importStrategy is fromEnvironment. Use the server bundled with the extension, which needs ' +
        'nothing but Python 3.10+, or install orps into that environment from its source (pip install PATH).'
    );
}

/** `useBundled`, and the entry script refused (Python too old, a build without the bundle) or failed. */
export function bundledFailedMessage(python: string, detail: string): string {
    const why = reason(detail);
    return `ORPS: the bundled orps server cannot start with ${python}` + (why ? `: ${why}` : '.');
}

/** vscode-languageclient's line for a server that exited with code 0: a normal stop, not an error. */
export function isCleanExitMessage(message: string): boolean {
    return /^Server process exited with code 0\.?$/.test(message.trim());
}

export const UNTRUSTED_MESSAGE =
    'ORPS runs your code and tests, so it stays off in an untrusted workspace. Trust the workspace to enable it.';

export function statusText(status: ServerStatus | undefined, trusted: boolean, running = true): string {
    if (!trusted) {
        return '$(shield) ORPS: off (untrusted)';
    }
    if (!running) {
        return '$(error) ORPS: not running';
    }
    if (status?.refining) {
        return '$(sync~spin) ORPS: refining…';
    }
    if (status?.summary) {
        const ok = status.passed !== null && status.passed === status.total;
        return `${ok ? '$(pass)' : '$(error)'} ORPS: ${status.summary}`;
    }
    return '$(beaker) ORPS';
}

/** `orps/review`: the pending hunks of a file's inline review (none: no review going on). */
export interface ReviewUpdate {
    uri: string;
    hunks: { index: number; line: number; removed: number; added: string[]; diff: string }[];
}

/** What an inline hunk says after the lines it replaces: what it puts there (the first line of it). */
export function hunkSummary(removed: number, added: readonly string[]): string {
    const first = added.map((line) => line.trim()).find((line) => line.length > 0);
    const lines = (n: number) => `${n} line${n === 1 ? '' : 's'}`;
    if (added.length === 0) {
        return `ORPS: remove ${removed === 1 ? 'this line' : `these ${lines(removed)}`}`;
    }
    const what = removed === 0 ? `insert ${lines(added.length)}` : `replace with ${lines(added.length)}`;
    const preview = first === undefined ? '' : `: ${first.length > 60 ? `${first.slice(0, 59)}…` : first}`;
    return `ORPS: ${what}${preview}${added.length > 1 ? ' …' : ''} (hover for the diff)`;
}

export const REFINE_NOTIFICATION_TITLE = 'ORPS refine';

export interface ProgressStep {
    message: string;
    increment: number | undefined;
    shown: number; // the percentage the notification shows after this step
}

/** One server progress value as the notification's next step: the target and what the search does now;
 * VS Code adds up increments, so it gets the difference from what it shows. */
export function progressStep(
    title: string,
    message: string | undefined,
    percentage: number | undefined,
    shown: number,
): ProgressStep {
    const target = title.replace(/^ORPS refine:?\s*/, '');
    const text = [target, message].filter((part) => part).join(': ');
    if (percentage === undefined || percentage <= shown) {
        return { message: text, increment: undefined, shown };
    }
    const next = Math.min(100, percentage);
    return { message: text, increment: next - shown, shown: next };
}

// How a refine ended, for a toast; undefined where nothing ran (whoever stopped it has said why).
// A refine the server could not run ({failed: true}) has been explained by the server itself (a
// message naming the fix, or a diagnostic in the file): no second toast.
export function refineResultMessage(result: unknown): string | undefined {
    if (result === undefined) {
        return undefined;
    }
    if (result && typeof result === 'object') {
        const r = result as { cancelled?: boolean; failed?: boolean; summary?: string };
        if (r.failed) {
            return undefined;
        }
        if (r.cancelled) {
            return 'ORPS: refine cancelled.';
        }
        if (r.summary) {
            return `${r.summary}. See the lightbulb on the function to apply or review it.`;
        }
    }
    return 'ORPS: the refine ended without a result (see the ORPS output).';
}
