// What the node tests that load a real bundle share: loading it against a stand-in for the `vscode`
// module, and the stand-in's URIs and tree items. (No tests here.)
import * as path from 'node:path';
// eslint-disable-next-line @typescript-eslint/no-require-imports
import Module = require('node:module');

/** Loads the bundle at ``relative`` (from out-test/testing/, as deep as out-test/test/) afresh, with ``stub`` as its `vscode`. */
export function loadBundle<T>(relative: string, stub: unknown): T {
    const loader = Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown };
    const original = loader._load;
    loader._load = function (request: string, ...rest: unknown[]) {
        return request === 'vscode' ? stub : original.call(this, request, ...rest);
    };
    try {
        const bundle = path.resolve(__dirname, relative);
        delete require.cache[bundle];
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        return require(bundle) as T;
    } finally {
        loader._load = original;
    }
}

export interface FakeUri {
    scheme: string;
    path: string;
    query: string;
    toString(): string;
}

export function uri(scheme: string, uriPath: string, query = ''): FakeUri {
    const authority = scheme === 'file' ? '//' : '';
    return { scheme, path: uriPath, query, toString: () => `${scheme}:${authority}${uriPath}${query ? `?${query}` : ''}` };
}

export interface Item {
    label: string;
    collapsibleState: number;
    id?: string;
    description?: string;
    tooltip?: string;
    contextValue?: string;
    iconPath?: { id: string };
    command?: { command: string; arguments: unknown[] };
}
