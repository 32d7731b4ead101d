// Which interpreter runs the server: orps.interpreter, else the Python extension's choice.
import * as vscode from 'vscode';
import { CONFIG_SECTION } from './constants';

/** The slice of the Python extension's public API we use (its `environments` API). */
interface PythonEnvironmentsApi {
    environments: {
        getActiveEnvironmentPath(resource?: vscode.Uri): { path: string };
        resolveEnvironment(env: { path: string }): Promise<{ executable: { uri?: vscode.Uri } } | undefined>;
        onDidChangeActiveEnvironmentPath: vscode.Event<unknown>;
    };
}

async function pythonApi(): Promise<PythonEnvironmentsApi | undefined> {
    const extension = vscode.extensions.getExtension<PythonEnvironmentsApi>('ms-python.python');
    if (!extension) {
        return undefined;
    }
    const api = extension.isActive ? extension.exports : await extension.activate();
    return api?.environments ? api : undefined;
}

export async function interpreter(resource?: vscode.Uri): Promise<string[]> {
    const configured = vscode.workspace.getConfiguration(CONFIG_SECTION, resource).get<string[]>('interpreter') ?? [];
    if (configured.length > 0 && configured[0]) {
        return configured;
    }
    const api = await pythonApi();
    if (api) {
        const active = api.environments.getActiveEnvironmentPath(resource);
        const resolved = await api.environments.resolveEnvironment(active);
        const executable = resolved?.executable.uri?.fsPath;
        if (executable) {
            return [executable];
        }
    }
    return [process.platform === 'win32' ? 'python' : 'python3'];
}

export async function onInterpreterChange(listener: () => void): Promise<vscode.Disposable | undefined> {
    const api = await pythonApi();
    return api?.environments.onDidChangeActiveEnvironmentPath(() => listener());
}
