"""An installed wheel runs on its own: templates, static files and migrations ship inside the
package, so nothing depends on the source tree being the working directory."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile

from tests.paths import ROOT

CHECK = """
import sys
from pathlib import Path
import lai_platform
from lai_platform import create_app
from flask_migrate import upgrade
assert Path(lai_platform.__file__).is_relative_to(sys.argv[1]), lai_platform.__file__
app = create_app()
with app.app_context():
    upgrade()
client = app.test_client()
for url in ("/", "/scoring", "/auth/login", "/static/style.css"):
    assert client.get(url).status_code == 200, url
print("served")
"""


def test_an_installed_wheel_migrates_and_serves(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         "-w", str(tmp_path / "dist"), str(ROOT)],
        check=True, capture_output=True,
    )
    (wheel,) = (tmp_path / "dist").glob("lai_platform-*.whl")
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = os.environ | {"PYTHONPATH": str(site), "LAI_DATA_DIR": str(tmp_path / "data"),
                        "LAI_LOAD_DEMO": "0"}
    result = subprocess.run([sys.executable, "-c", CHECK, str(site)], cwd=elsewhere, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "served"
