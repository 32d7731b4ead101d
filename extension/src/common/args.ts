// Arguments for the server's commands and the server process. Pure: unit-tested without VS Code.

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

/** `[python, ...its own args]` -> the server process: `python ... -m orps_server`. */
export function serverProcess(interpreter: readonly string[]): ProcessSpec {
    if (interpreter.length === 0 || !interpreter[0]) {
        throw new Error('no Python interpreter');
    }
    return { command: interpreter[0], args: [...interpreter.slice(1), '-m', 'orps_server'] };
}

/** Checks that the server can start with this interpreter, without starting it. */
export function importCheck(interpreter: readonly string[]): ProcessSpec {
    const server = serverProcess(interpreter);
    return { command: server.command, args: [...interpreter.slice(1), '-c', 'import orps_server'] };
}
