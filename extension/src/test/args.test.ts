import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { documentArguments, importCheck, refineArguments, serverProcess, withProgressToken } from '../common/args';

test('refine arguments carry the document, cursor and version', () => {
    const [args] = refineArguments('file:///a.py', { line: 3, character: 7 }, 12);
    assert.deepEqual(args, { uri: 'file:///a.py', position: { line: 3, character: 7 }, version: 12 });
});

test('document commands carry one object with the document', () => {
    assert.deepEqual(documentArguments('file:///a.py'), [{ uri: 'file:///a.py' }]);
});

test('the server runs as a module of the chosen interpreter, keeping its arguments', () => {
    assert.deepEqual(serverProcess(['/venv/bin/python']), { command: '/venv/bin/python', args: ['-m', 'orps_server'] });
    assert.deepEqual(serverProcess(['py', '-3.11']), { command: 'py', args: ['-3.11', '-m', 'orps_server'] });
    assert.deepEqual(importCheck(['py', '-3.11']), { command: 'py', args: ['-3.11', '-c', 'import orps_server'] });
});

test('no interpreter is an error, not an empty command', () => {
    assert.throws(() => serverProcess([]), /no Python interpreter/);
    assert.throws(() => serverProcess(['']), /no Python interpreter/);
});

test('a refine carries the token of the notification that shows it, whatever started it', () => {
    const [palette] = withProgressToken(refineArguments('file:///a.py', { line: 1, character: 0 }, 3), 'tok');
    assert.deepEqual(palette, { uri: 'file:///a.py', position: { line: 1, character: 0 }, version: 3, progress: 'tok' });
    const lens = withProgressToken([{ uri: 'file:///a.py', function: 'f' }], 'tok');
    assert.deepEqual(lens, [{ uri: 'file:///a.py', function: 'f', progress: 'tok' }]);
    assert.deepEqual(withProgressToken(['file:///a.py'], 'tok'), ['file:///a.py']); // not ours to change
});
