"""The code is ruff clean (the configuration is in pyproject.toml)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_is_clean():
    ruff = Path(sys.executable).with_name("ruff")
    folders = ["nnlab", "tests", "scripts", "benchmarks", "e2e", "book"]
    result = subprocess.run([str(ruff), "check", *folders], cwd=ROOT, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_modules_stay_small():
    # The project's style rule: no module over ~400 lines. The largest are up to 5 % over.
    # Tests too: a test module is read to learn what the code promises.
    folders = ["nnlab", "tests", "scripts", "benchmarks", "e2e", "book/_ext"]
    for path in [ROOT / "conftest.py", *(p for f in folders for p in (ROOT / f).glob("*.py"))]:
        lines = len(path.read_text().splitlines())
        assert lines <= 420, (f"{path.relative_to(ROOT)} has {lines} lines; split it "
                              "(one concept per module)")


def test_the_readme_layout_names_every_engine_module():
    readme = (ROOT / "README.md").read_text()
    missing = [path.name for path in sorted((ROOT / "nnlab").glob("*.py"))
               if path.name != "__init__.py" and f"  {path.name} " not in readme]
    assert not missing, f"README.md's layout does not describe {missing}"
