"""The Python API for testing proxy-wasm plugins, in one import (its home is
``abi.frontends.testing``; this is the documented name)."""

from abi.frontends.testing import *  # noqa: F401,F403
from abi.frontends.testing import __all__  # noqa: F401
