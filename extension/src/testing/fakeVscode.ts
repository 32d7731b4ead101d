// What the node tests that load a real bundle share: loading it against a stand-in for the `vscode`
// module, and the stand-in's URIs, events and tree items. (No tests here.)
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

/** A tree view's data provider, as the views hand it to `createTreeView`. */
export interface Provider {
    getChildren(element?: unknown): Promise<unknown[]>;
    getTreeItem(element: unknown): Item;
    onDidChangeTreeData(listener: () => void): unknown;
}

export const disposable = { dispose: () => undefined };

export class EventEmitter {
    private listeners: (() => void)[] = [];
    event = (listener: () => void) => {
        this.listeners.push(listener);
        return disposable;
    };
    fire(): void {
        this.listeners.forEach((l) => l());
    }
    dispose(): void {}
}

export class TreeItem {
    constructor(
        public label: string,
        public collapsibleState: number,
    ) {}
}

/** The stand-in's `vscode.Uri`. */
export const Uri = {
    parse: (text: string) => {
        const url = new URL(text);
        return uri(url.protocol.replace(/:$/, ''), decodeURIComponent(url.pathname));
    },
    from: (parts: { scheme: string; path: string; query: string }) => uri(parts.scheme, parts.path, parts.query),
    file: (filePath: string) => uri('file', filePath),
};
