"""Where the harness keeps images, keys and run state: outside the checkout."""

import os
from pathlib import Path


def cache_root():
    """Cache directory, overridable with LVSLAB_CACHE."""
    env = os.environ.get("LVSLAB_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "lvs-cluster-lab"


def runs_root():
    """One sub-directory per booted lab, named by its run id."""
    return cache_root() / "runs"


def images_root():
    """One sub-directory per image, named by release and recipe hash."""
    return cache_root() / "images"
