// Writes src/generated/vocabulary.json from the server's declarations (`python -m app.vocabulary`:
// enum labels from app/vocabulary.json, each kind's rules from app/domain/*.py). Run before every
// build and test run. Without the project's Python environment (the Docker image's Node stage)
// the committed copy is used as it is; tests/test_vocabulary.py fails when it is not current.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const python = ['.venv/bin/python', '.venv/Scripts/python.exe'].map((p) => root + p).find((p) => existsSync(p));
if (!python) {
  console.log('vocabulary: no .venv here; using the committed src/generated/vocabulary.json');
  process.exit(0);
}
const run = spawnSync(python, ['-m', 'app.vocabulary'], { cwd: root, stdio: 'inherit' });
process.exit(run.status ?? 1);
