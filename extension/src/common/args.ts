// Arguments for the server's commands and the server process. Pure: unit-tested without VS Code.
import * as path from 'path';

export interface Position {
    line: number;
    character: number;
}

export interface RefineArguments {
    uri: string;
    position: Position;
    version: number;
}

export interface DocumentArguments {
    uri: string;
}

/** The server's document commands (orps.runTests, orps.proposal, ...) take one object: the document. */
export function documentArguments(uri: string): [DocumentArguments] {
    return [{ uri }];
}

/** `orps.refine` takes one object: the document, the cursor, and the version it was asked on. */
export function refineArguments(uri: string, position: Position, version: number): [RefineArguments] {
    return [{ uri, position: { line: position.line, character: position.character }, version }];
}

/** The refine's arguments with the token of the notification that shows its progress (the first
 * argument is the refine's object, as from refineArguments or a code lens). */
export function withProgressToken(args: readonly unknown[], token: string): unknown[] {
    const [first, ...rest] = args;
    if (first === null || typeof first !== 'object' || Array.isArray(first)) {
        return [...args];
    }
    return [{ ...(first as Record<string, unknown>), progress: token }, ...rest];
}

export interface ProcessSpec {
    command: string;
    args: string[];
}

/**
 * Where the server's code comes from (`orps.importStrategy`): the copy bundled with the extension
 * (`bundled/libs`, put on the server's own sys.path by `bundled/tool/lsp_server.py`), or the
 * interpreter's own installed orps.
 */
export type ImportStrategy = 'useBundled' | 'fromEnvironment';

export const IMPORT_STRATEGIES: readonly ImportStrategy[] = ['useBundled', 'fromEnvironment'];

/** The entry script that runs the bundled server, below the extension's folder. */
export const BUNDLED_SCRIPT = ['bundled', 'tool', 'lsp_server.py'];

/** The setting's value, or the default (`useBundled`) for anything else. */
export function importStrategy(value: unknown): ImportStrategy {
    return IMPORT_STRATEGIES.find((strategy) => strategy === value) ?? 'useBundled';
}

export function bundledScript(extensionRoot: string): string {
    return path.join(extensionRoot, ...BUNDLED_SCRIPT);
}

function serverArgs(strategy: ImportStrategy, extensionRoot: string): string[] {
    return strategy === 'useBundled' ? [bundledScript(extensionRoot)] : ['-m', 'orps_server'];
}

/**
 * `[python, ...its own args]` -> the server process: `python ... bundled/tool/lsp_server.py`, or
 * `python ... -m orps_server`. Never an environment of its own: a PYTHONPATH would reach the
 * sandboxed runs of the user's code.
 */
export function serverProcess(
    interpreter: readonly string[],
    strategy: ImportStrategy,
    extensionRoot: string,
): ProcessSpec {
    if (interpreter.length === 0 || !interpreter[0]) {
        throw new Error('no Python interpreter');
    }
    return { command: interpreter[0], args: [...interpreter.slice(1), ...serverArgs(strategy, extensionRoot)] };
}

/** Checks that the server can start with this interpreter, without starting it. */
export function importCheck(
    interpreter: readonly string[],
    strategy: ImportStrategy,
    extensionRoot: string,
): ProcessSpec {
    const server = serverProcess(interpreter, strategy, extensionRoot);
    const check = strategy === 'useBundled' ? [bundledScript(extensionRoot), '--check'] : ['-c', 'import orps_server'];
    return { command: server.command, args: [...interpreter.slice(1), ...check] };
}
