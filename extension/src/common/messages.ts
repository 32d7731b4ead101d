// What the extension tells people. Pure: unit-tested without VS Code.

export interface ServerStatus {
    uri?: string;
    summary?: string | null;
    passed?: number | null;
    total?: number | null;
    refining?: boolean;
}

function quote(path: string): string {
    return /[\s"'$`\\]/.test(path) ? `"${path.replace(/(["$`\\])/g, '\\$1')}"` : path;
}

export function installCommand(python: string): string {
    return `${quote(python)} -m pip install orps`;
}

export function missingInterpreterMessage(python: string): string {
    return (
        `ORPS: the interpreter ${python} does not exist. ` +
        'Set orps.interpreter to the path of a Python 3.10+ interpreter, or choose one with the Python extension.'
    );
}

export function notInstalledMessage(python: string, detail: string): string {
    const why = detail.trim().split('\n').pop() ?? '';
    return (
        `ORPS: the orps language server is not installed for ${python}` +
        (why ? ` (${why})` : '') +
        `. Install it with: ${installCommand(python)}, or choose another interpreter (orps.interpreter).`
    );
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
export function refineResultMessage(result: unknown): string | undefined {
    if (result === undefined) {
        return undefined;
    }
    if (result && typeof result === 'object') {
        const r = result as { cancelled?: boolean; summary?: string };
        if (r.cancelled) {
            return 'ORPS: refine cancelled.';
        }
        if (r.summary) {
            return `${r.summary}. See the lightbulb on the function to apply or review it.`;
        }
    }
    return 'ORPS: the refine ended without a result (see the ORPS output).';
}
