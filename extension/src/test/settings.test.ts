import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import {
    configurationChange,
    describeSettings,
    initializationOptions,
    Inspected,
    userSetSettings,
} from '../common/settings';

function inspector(values: Record<string, Inspected>): (key: string) => Inspected | undefined {
    return (key) => values[key];
}

test('only values the user set reach the server, folder over workspace over user', () => {
    const settings = userSetSettings(
        inspector({
            model: { globalValue: 'gpt-4o-mini', workspaceValue: 'qwen' },
            samples: { workspaceFolderValue: 6, globalValue: 3 },
            baseUrl: { globalValue: '' },
            rounds: {},
        }),
    );
    assert.deepEqual(settings, { model: 'qwen', samples: 6 });
});

test('defaults (no explicit value) never mask the project settings', () => {
    assert.deepEqual(userSetSettings(() => ({})), {});
});

test('the API key travels only in the initialization options', () => {
    const options = initializationOptions({ model: 'm' }, 'sk-test-SENTINEL');
    assert.equal(options.apiKey, 'sk-test-SENTINEL');
    assert.deepEqual(options.settings, { model: 'm' });
    assert.equal(JSON.stringify(options.settings).includes('SENTINEL'), false);
    assert.equal('apiKey' in initializationOptions({}, undefined), false);
});

test('the storage folder for the refine history travels beside the settings, when there is one', () => {
    const options = initializationOptions({ model: 'm' }, undefined, '/home/u/.vscode/storage/abc');
    assert.equal(options.storageFolder, '/home/u/.vscode/storage/abc');
    assert.deepEqual(options.settings, { model: 'm' });
    assert.equal('storageFolder' in initializationOptions({}, undefined), false);
});

test('the settings description names fields and never the key', () => {
    const text = describeSettings({ model: 'm', samples: 2 }, 'sk-test-SENTINEL');
    assert.equal(text, 'model=m, samples=2, apiKey=set');
    assert.equal(describeSettings({}, undefined), 'apiKey=unset');
});

test('only an interpreter or import-strategy change restarts the server; other orps settings are told to it', () => {
    const affects = (changed: string[]) => (section: string) =>
        changed.some((key) => key === section || key.startsWith(`${section}.`));
    assert.equal(configurationChange(affects(['orps.interpreter']), 'orps'), 'restart');
    assert.equal(configurationChange(affects(['orps.importStrategy']), 'orps'), 'restart');
    assert.equal(configurationChange(affects(['orps.samples']), 'orps'), 'notify');
    assert.equal(configurationChange(affects(['orps.timeLimit', 'orps.interpreter']), 'orps'), 'restart');
    assert.equal(configurationChange(affects(['python.defaultInterpreterPath']), 'orps'), 'none');
});
