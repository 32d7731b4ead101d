// orps.* settings -> the server's initializationOptions. Pure: no `vscode` import, so it is
// unit-tested with node's test runner.

/** The settings the server reads (camelCase, as in the manifest). */
export interface OrpsSettings {
    model?: string;
    baseUrl?: string;
    preset?: string;
    samples?: number;
    beam?: number;
    rounds?: number;
    temperature?: number;
    maxInFlight?: number;
    timeout?: number;
    maxRetries?: number;
    promptBudget?: number;
    repeats?: number;
    maxTokens?: number;
    contextWindow?: number;
    earlyStop?: string;
    timeLimit?: number;
    memoryLimit?: number;
    allowSubprocesses?: boolean;
    runOnSave?: boolean;
    saveBurstDelay?: number;
    reviewMode?: string;
}

export const SERVER_KEYS: readonly (keyof OrpsSettings)[] = [
    'model',
    'baseUrl',
    'preset',
    'samples',
    'beam',
    'rounds',
    'temperature',
    'maxInFlight',
    'timeout',
    'maxRetries',
    'promptBudget',
    'repeats',
    'maxTokens',
    'contextWindow',
    'earlyStop',
    'timeLimit',
    'memoryLimit',
    'allowSubprocesses',
    'runOnSave',
    'saveBurstDelay',
    'reviewMode',
];

/** The settings that only a new server process can take up (its interpreter, and where its code comes from). */
export const RESTART_KEYS: readonly string[] = ['interpreter', 'importStrategy'];

export type ConfigurationChange = 'restart' | 'notify' | 'none';

/**
 * What a configuration change asks of the client: restart the server (the interpreter changed),
 * tell it (it pulls the `orps` section again itself), or nothing.
 */
export function configurationChange(affects: (section: string) => boolean, section: string): ConfigurationChange {
    if (RESTART_KEYS.some((key) => affects(`${section}.${key}`))) {
        return 'restart';
    }
    return affects(section) ? 'notify' : 'none';
}

/** What `WorkspaceConfiguration.inspect()` returns, reduced to what we read. */
export interface Inspected {
    globalValue?: unknown;
    workspaceValue?: unknown;
    workspaceFolderValue?: unknown;
}

/**
 * Only the values the user set (folder over workspace over user settings): the manifest's
 * defaults must never mask the project's own `[tool.orps]` table.
 */
export function userSetSettings(inspect: (key: string) => Inspected | undefined): OrpsSettings {
    const settings: Record<string, unknown> = {};
    for (const key of SERVER_KEYS) {
        const found = inspect(key);
        const value = found?.workspaceFolderValue ?? found?.workspaceValue ?? found?.globalValue;
        if (value !== undefined && value !== null && value !== '') {
            settings[key] = value;
        }
    }
    return settings as OrpsSettings;
}

export interface InitializationOptions {
    settings: OrpsSettings;
    apiKey?: string;
    storageFolder?: string;
}

/** The key travels only here (from SecretStorage), never through settings. */
export function initializationOptions(
    settings: OrpsSettings,
    apiKey: string | undefined,
    storageFolder?: string,
): InitializationOptions {
    const options: InitializationOptions = { settings: { ...settings } };
    if (apiKey) {
        options.apiKey = apiKey;
    }
    if (storageFolder) {
        options.storageFolder = storageFolder; // where the server keeps the refine history
    }
    return options;
}

/** For the log: named fields only, and never the key. */
export function describeSettings(settings: OrpsSettings, apiKey: string | undefined): string {
    const shown = SERVER_KEYS.filter((key) => settings[key] !== undefined).map((key) => `${key}=${settings[key]}`);
    shown.push(`apiKey=${apiKey ? 'set' : 'unset'}`);
    return shown.join(', ');
}
