import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import {
    documentArguments,
    IMPORT_STRATEGIES,
    importCheck,
    importStrategy,
    refineArguments,
    serverProcess,
    withProgressToken,
} from '../common/args';

test('refine arguments carry the document, cursor and version', () => {
    const [args] = refineArguments('file:///a.py', { line: 3, character: 7 }, 12);
    assert.deepEqual(args, { uri: 'file:///a.py', position: { line: 3, character: 7 }, version: 12 });
});

test('document commands carry one object with the document', () => {
    assert.deepEqual(documentArguments('file:///a.py'), [{ uri: 'file:///a.py' }]);
});

const ROOT = '/ext/orps-0.1.0';
const SCRIPT = '/ext/orps-0.1.0/bundled/tool/lsp_server.py';

test('useBundled runs the entry script of the bundle with the chosen interpreter, keeping its arguments', () => {
    assert.deepEqual(serverProcess(['/usr/bin/python3'], 'useBundled', ROOT), {
        command: '/usr/bin/python3',
        args: [SCRIPT],
    });
    assert.deepEqual(serverProcess(['py', '-3.11'], 'useBundled', ROOT), { command: 'py', args: ['-3.11', SCRIPT] });
    assert.deepEqual(importCheck(['py', '-3.11'], 'useBundled', ROOT), {
        command: 'py',
        args: ['-3.11', SCRIPT, '--check'],
    });
});

test("fromEnvironment runs the interpreter's own orps as a module", () => {
    assert.deepEqual(serverProcess(['/venv/bin/python'], 'fromEnvironment', ROOT), {
        command: '/venv/bin/python',
        args: ['-m', 'orps_server'],
    });
    assert.deepEqual(importCheck(['py', '-3.11'], 'fromEnvironment', ROOT), {
        command: 'py',
        args: ['-3.11', '-c', 'import orps_server'],
    });
});

test('the process spec carries no environment: nothing like PYTHONPATH can reach the sandboxed runs', () => {
    for (const strategy of IMPORT_STRATEGIES) {
        assert.deepEqual(Object.keys(serverProcess(['python3'], strategy, ROOT)).sort(), ['args', 'command']);
    }
});

test('the import strategy defaults to the bundled server for anything but a known value', () => {
    assert.equal(importStrategy('fromEnvironment'), 'fromEnvironment');
    assert.equal(importStrategy('useBundled'), 'useBundled');
    for (const value of [undefined, null, '', 'bundled', 3]) {
        assert.equal(importStrategy(value), 'useBundled');
    }
});

test('no interpreter is an error, not an empty command', () => {
    for (const strategy of IMPORT_STRATEGIES) {
        assert.throws(() => serverProcess([], strategy, ROOT), /no Python interpreter/);
        assert.throws(() => serverProcess([''], strategy, ROOT), /no Python interpreter/);
    }
});

test('a refine carries the token of the notification that shows it, whatever started it', () => {
    const [palette] = withProgressToken(refineArguments('file:///a.py', { line: 1, character: 0 }, 3), 'tok');
    assert.deepEqual(palette, { uri: 'file:///a.py', position: { line: 1, character: 0 }, version: 3, progress: 'tok' });
    const lens = withProgressToken([{ uri: 'file:///a.py', function: 'f' }], 'tok');
    assert.deepEqual(lens, [{ uri: 'file:///a.py', function: 'f', progress: 'tok' }]);
    assert.deepEqual(withProgressToken(['file:///a.py'], 'tok'), ['file:///a.py']); // not ours to change
});
