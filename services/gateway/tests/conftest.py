"""Fixtures of the gateway's tests; the harness itself is gateway_harness.py (importable: this directory is put on sys.path)."""

import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from gateway_harness import InProcessPlatform, PlatformFactory, build_platform

from gateway.identity import PrincipalsFile


@pytest.fixture
async def make_platform(tmp_path: Path, internal_keys: tuple[bytes, Path]) -> AsyncIterator[PlatformFactory]:
    """`await make_platform(principals, gateway_database_url=..., replace={...}, **gateway_settings)`."""
    async with AsyncExitStack() as stack:

        async def make(principals: PrincipalsFile, **options: Any) -> InProcessPlatform:
            return await build_platform(stack, tmp_path, internal_keys, principals, **options)

        yield make
