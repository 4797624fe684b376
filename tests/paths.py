"""Where the source tree's parts are, for tests that use the demo bundle or run commands."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO_BUNDLE = ROOT / "examples" / "lai-liver"
