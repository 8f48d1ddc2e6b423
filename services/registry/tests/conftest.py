"""The registry tests' helpers live in registry_testkit (importable from every test module of this directory)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from registry_testkit import api  # noqa: F401 - the fixture, registered here
